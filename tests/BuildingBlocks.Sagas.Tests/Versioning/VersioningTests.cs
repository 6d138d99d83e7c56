using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Versioning;

public sealed class VersioningTests
{
    private readonly InMemorySagaStore _store = new();
    private readonly Ledger _ledger = new();

    private void V1(SagaBuilder<TestData> saga)
    {
        saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
        saga.Step("charge").Execute(_ledger.Ok<TestData>());
    }

    private void V2(SagaBuilder<TestData> saga)
    {
        saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
        saga.Step("charge").Execute(_ledger.Ok<TestData>());
        saga.Step("notify").Execute(_ledger.Ok<TestData>());
    }

    private Task<SagaTestHost> HostAsync(Action<SagaTestHostBuilder> configure, bool runCoordinator = true) =>
        SagaTestHost.StartAsync(b =>
        {
            b.Store = _store;
            b.Ledger = _ledger;
            b.Options(o => o.RunCoordinator = runCoordinator);
            configure(b);
        });

    /// <summary>Starts a saga under the given definition from a process that runs no coordinator: it waits in the store.</summary>
    private async Task<string> StartElsewhereAsync(int version, Action<SagaBuilder<TestData>> define)
    {
        await using SagaTestHost starter = await HostAsync(b => b.Saga("order", version, define), runCoordinator: false);
        string id = await starter.StartSagaAsync();
        SagaSnapshot waiting = (await starter.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(version, waiting.Version);
        Assert.Null(waiting.LeaseOwner);
        return id;
    }

    [Fact]
    public async Task SagaOfAnOlderVersion_OnAHostWithOnlyTheNewVersion_IsSuspended_SayingWhatToDo()
    {
        string id = await StartElsewhereAsync(1, V1);
        await using SagaTestHost host = await HostAsync(b => b.Saga("order", 2, V2));

        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.True(end.IsParked);
        Assert.Null(end.LeaseOwner);
        Assert.Equal(
            "saga 'order' version 1 has no registered definition (registered versions: 2): register the version-1 definition alongside the new one, "
            + "or declare saga.ResumesVersions(1) in a newer version whose steps keep the old names, then retry the saga",
            end.Error);
        Assert.Empty(_ledger.Entries(id));
        SagaEvent suspended = (await host.HistoryAsync(id))[^1];
        Assert.Equal(SagaEventKind.Suspended, suspended.Kind);
        Assert.Equal(end.Error, suspended.Detail);
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 4004);
    }

    [Fact]
    public async Task SuspendedForAMissingVersion_RetriedAfterTheVersionIsRegistered_RunsItsOwnSteps()
    {
        string id = await StartElsewhereAsync(1, V1);
        await using (SagaTestHost v2Only = await HostAsync(b => b.Saga("order", 2, V2)))
        {
            Assert.Equal(SagaStatus.Suspended, (await v2Only.WaitForEndAsync(id)).Status);
        }

        await using SagaTestHost both = await HostAsync(b => b.Saga("order", 1, V1).Saga("order", 2, V2));
        await both.Operator.RetryAsync(id, "v1 registered again", SagaTestHost.Ct);
        SagaSnapshot end = await both.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(1, end.Version);
        Assert.Equal(["reserve", "charge"], _ledger.Forward(id));
        Assert.Equal(["Started", "Suspended", "Retried", "StepCompleted reserve#1", "StepCompleted charge#1", "Completed"], await both.HistoryLinesAsync(id));
    }

    [Fact]
    public async Task HostWithBothVersions_RunsEachSagaWithTheVersionItStartedUnder_AndStartsNewOnesOnTheLatest()
    {
        string old = await StartElsewhereAsync(1, V1);
        await using SagaTestHost host = await HostAsync(b => b.Saga("order", 1, V1).Saga("order", 2, V2));

        string fresh = await host.StartSagaAsync();

        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(old)).Status);
        SagaSnapshot freshEnd = await host.WaitForEndAsync(fresh);
        Assert.Equal(["reserve", "charge"], _ledger.Forward(old));
        Assert.Equal(2, freshEnd.Version);
        Assert.Equal(["reserve", "charge", "notify"], _ledger.Forward(fresh));
    }

    [Fact]
    public async Task NewerVersionDeclaringResumesVersions_CarriesOnTheOldSaga_WithoutRepeatingItsCompletedSteps()
    {
        Gate charge = new();
        string id;
        await using (SagaTestHost v1 = await HostAsync(b => b.Saga("order", 1, saga =>
        {
            saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                _ledger.Record(ctx);
                await charge.WaitAsync(ct);
            });
            saga.Step("ship-v1").Execute(_ledger.Ok<TestData>());
        })))
        {
            id = await v1.StartSagaAsync();
            await charge.EnteredAsync();
            Task stopping = v1.StopAsync();
            charge.Release();
            await stopping.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        }

        Assert.Equal(["reserve", "charge"], _ledger.Forward(id));
        await using SagaTestHost v2 = await HostAsync(b => b.Saga("order", 2, saga =>
        {
            saga.ResumesVersions(1);
            saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(_ledger.Ok<TestData>());
            saga.Step("ship-v2").Execute(_ledger.Ok<TestData>());
        }));
        SagaSnapshot end = await v2.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(1, end.Version);
        Assert.Equal(["reserve", "charge", "ship-v2"], _ledger.Forward(id));
    }

    [Fact]
    public async Task ResumingVersion_WithoutAStepThatCompletedUnderTheOldOne_Suspends()
    {
        Gate charge = new();
        string id;
        await using (SagaTestHost v1 = await HostAsync(b => b.Saga("order", 1, saga =>
        {
            saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                _ledger.Record(ctx);
                await charge.WaitAsync(ct);
            });
            saga.Step("ship").Execute(_ledger.Ok<TestData>());
        })))
        {
            id = await v1.StartSagaAsync();
            await charge.EnteredAsync();
            Task stopping = v1.StopAsync();
            charge.Release();
            await stopping.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        }

        await using SagaTestHost v2 = await HostAsync(b => b.Saga("order", 2, saga =>
        {
            saga.ResumesVersions(1);
            saga.Step("reserve-stock").Execute(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(_ledger.Ok<TestData>());
            saga.Step("ship").Execute(_ledger.Ok<TestData>());
        }));
        SagaSnapshot end = await v2.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.Equal("saga 'order' version 2 resumes version 1, but step 'reserve' that ran under version 1 is not in version 2", end.Error);
        Assert.Equal(["reserve", "charge"], _ledger.Forward(id));
    }

    [Fact]
    public async Task SameVersionWithChangedSteps_Suspends()
    {
        string id = await StartElsewhereAsync(1, V1);
        await using SagaTestHost host = await HostAsync(b => b.Saga("order", 1, V2));

        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.StartsWith("saga 'order' version 1 changed its steps (added, removed, renamed or reordered) after this saga started", end.Error, StringComparison.Ordinal);
        Assert.Empty(_ledger.Entries(id));
    }

    [Fact]
    public async Task SameVersion_WithACompensationAddedToAStep_CountsAsChanged()
    {
        string id = await StartElsewhereAsync(1, V1);
        await using SagaTestHost host = await HostAsync(b => b.Saga("order", 1, saga =>
        {
            saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
        }));

        Assert.Equal(SagaStatus.Suspended, (await host.WaitForEndAsync(id)).Status);
    }

    [Fact]
    public async Task SameVersion_WithOnlyTheStepCodeChanged_Runs()
    {
        string id = await StartElsewhereAsync(1, V1);
        await using SagaTestHost host = await HostAsync(b => b.Saga("order", 1, saga =>
        {
            saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>()).WithRetry(3).WithTimeout(TimeSpan.FromMinutes(1));
            saga.Step("charge").Execute(_ledger.Ok<TestData>());
        }));

        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    [Fact]
    public async Task SagaOfANewerVersionThanRegistered_IsLeftAlone_ForAHostThatHasIt()
    {
        string id = await StartElsewhereAsync(3, V2);
        await using (SagaTestHost old = await HostAsync(b => b
            .Options(o =>
            {
                o.LeaseDuration = TimeSpan.FromMilliseconds(300);
                o.LeaseRenewalInterval = TimeSpan.FromMilliseconds(100);
            })
            .Saga("order", 1, V1)
            .Saga("order", 2, V2)))
        {
            await Eventually.HoldsAsync(() => old.Logs.GetSnapshot().Any(r => r.Id.Id == 4009), "the old host saw the saga and skipped it");
            Microsoft.Extensions.Logging.Testing.FakeLogRecord skipped = old.Logs.GetSnapshot().First(r => r.Id.Id == 4009);
            Assert.Contains("runs version 3, newer than this coordinator's definitions (up to 2)", skipped.Message, StringComparison.Ordinal);

            await Eventually.QuietPeriodAsync(400);
            SagaSnapshot during = (await old.Client.GetAsync(id, SagaTestHost.Ct))!;
            Assert.Equal(SagaStatus.Running, during.Status);
            Assert.Null(during.Error);
            Assert.Equal(["Started"], await old.HistoryLinesAsync(id));
            Assert.Empty(_ledger.Entries(id));
        }

        await using SagaTestHost current = await HostAsync(b => b.Saga("order", 3, V2));
        SagaSnapshot end = await current.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(["reserve", "charge", "notify"], _ledger.Forward(id));
    }

    [Fact]
    public async Task SagaWhoseNameIsNotRegistered_IsNeverAcquired()
    {
        string id = await StartElsewhereAsync(1, V1);
        await using SagaTestHost host = await HostAsync(b => b.Saga("invoice", 1, V1));

        string other = await host.StartSagaAsync();
        await host.WaitForEndAsync(other);
        await Eventually.QuietPeriodAsync();

        SagaSnapshot untouched = (await host.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, untouched.Status);
        Assert.Equal(0, (await _store.GetAsync(id, SagaTestHost.Ct))!.LeaseToken);
        Assert.Empty(_ledger.Entries(id));
    }

    [Fact]
    public async Task SuspendedWhileCompensating_RetriedWithTheVersionRegistered_CarriesOnCompensating()
    {
        Gate undoCharge = new();
        void V1Compensating(SagaBuilder<TestData> saga)
        {
            saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(_ledger.Ok<TestData>()).Compensate(async (ctx, ct) =>
            {
                _ledger.Record(ctx);
                if (!undoCharge.IsReleased)
                {
                    await undoCharge.WaitAsync(ct);
                }
            });
            saga.Step("ship").Execute(_ledger.FailsForGood<TestData>());
        }

        string id;
        await using (SagaTestHost v1 = await HostAsync(b => b.Saga("order", 1, V1Compensating)))
        {
            id = await v1.StartSagaAsync();
            await undoCharge.EnteredAsync();
            Task stopping = v1.StopAsync();
            undoCharge.Release();
            await stopping.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        }

        Assert.Equal(SagaStatus.Compensating, (await _store.GetAsync(id, SagaTestHost.Ct))!.Status);
        await using (SagaTestHost v2Only = await HostAsync(b => b.Saga("order", 2, V2)))
        {
            Assert.Equal(SagaStatus.Suspended, (await v2Only.WaitForEndAsync(id)).Status);
        }

        await using SagaTestHost both = await HostAsync(b => b.Saga("order", 1, V1Compensating).Saga("order", 2, V2));
        await both.Operator.RetryAsync(id, cancellationToken: SagaTestHost.Ct);
        // Retried back to where it was (Compensating), not to Running; the coordinator may already have finished it.
        Assert.Contains((await both.Client.GetAsync(id, SagaTestHost.Ct))!.Status, new[] { SagaStatus.Compensating, SagaStatus.Compensated });
        SagaSnapshot end = await both.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["charge", "reserve"], _ledger.Compensations(id));
        Assert.Equal(
            ["Started", "StepCompleted reserve#1", "StepCompleted charge#1", "StepFailed ship#1", "CompensationCompleted charge#1", "Suspended", "Retried", "CompensationCompleted reserve#1", "Compensated"],
            await both.HistoryLinesAsync(id));
    }
}
