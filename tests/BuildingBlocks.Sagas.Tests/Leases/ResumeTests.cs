using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Leases;

public sealed class ResumeTests
{
    private readonly InMemorySagaStore _store = new();
    private readonly Ledger _ledger = new();

    private Task<SagaTestHost> HostAsync(Action<SagaBuilder<TestData>> define, Action<SagaOptions>? options = null) =>
        SagaTestHost.StartAsync(b =>
        {
            b.Store = _store;
            b.Ledger = _ledger;
            b.Options(options ?? (_ => { }));
            b.Saga("order", define);
        });

    [Fact]
    public async Task GracefulStop_LetsTheRunningStepFinish_StartsNoNewStep_AndReleasesTheLease_SoAnotherHostFinishesAtOnce()
    {
        Gate charge = new();
        void Define(SagaBuilder<TestData> saga)
        {
            saga.Step("reserve").Execute(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                _ledger.Record(ctx);
                if (!charge.IsReleased)
                {
                    await charge.WaitAsync(ct);
                }
            });
            saga.Step("ship").Execute(_ledger.Ok<TestData>());
        }

        SagaTestHost first = await HostAsync(Define);
        string id = await first.StartSagaAsync();
        await charge.EnteredAsync();
        Task stopping = first.StopAsync();
        await Eventually.QuietPeriodAsync();
        Assert.False(stopping.IsCompleted, "the stop waits for the running step");
        charge.Release();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        await first.DisposeAsync();

        Assert.False(await charge.SawCancellation);
        SagaRecord stopped = (await _store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, stopped.Status);
        Assert.Null(stopped.LeaseOwner);
        Assert.Equal(["reserve", "charge"], _ledger.Forward(id));

        await using SagaTestHost second = await HostAsync(Define);
        SagaSnapshot end = await second.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(["reserve", "charge", "ship"], _ledger.Forward(id));
        IReadOnlyList<SagaEvent> history = await second.HistoryAsync(id);
        long firstRun = history[1].LeaseToken;
        Assert.Equal([firstRun, firstRun, firstRun + 1, firstRun + 1], history.Skip(1).Select(e => e.LeaseToken));
    }

    [Fact]
    public async Task StopDuringARetryDelay_ResumesElsewhere_WithTheNextAttemptNumber_AndTheSameKey()
    {
        void Define(SagaBuilder<TestData> saga) =>
            saga.Step("charge")
                .Execute(_ledger.Fails<TestData>(ctx => ctx.Attempt < 3 ? new HttpRequestException("503") : null))
                .WithRetry(5, r =>
                {
                    r.InitialDelay = TimeSpan.FromHours(1);
                    r.MaxDelay = TimeSpan.FromHours(1);
                });

        string id;
        await using (SagaTestHost first = await HostAsync(Define))
        {
            id = await first.StartSagaAsync();
            await first.WaitForAsync(id, s => s.Steps[0].Attempts == 1, "attempt 1 failed, waiting an hour");
            await first.StopAsync().WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        }

        Assert.Null((await _store.GetAsync(id, SagaTestHost.Ct))!.LeaseOwner);
        await using SagaTestHost second = await HostAsync(Define, o => o.DefaultStepRetry = new SagaRetryPolicy());
        await second.WaitForAsync(id, s => s.Steps[0].Attempts == 2, "attempt 2 failed on the second host");
        await second.StopAsync().WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);

        await using SagaTestHost third = await HostAsync(Define);
        Assert.Equal(SagaStatus.Completed, (await third.WaitForEndAsync(id)).Status);
        IReadOnlyList<LedgerEntry> attempts = _ledger.Attempts(id, "charge");
        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        Assert.Single(attempts.Select(a => a.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task SagaOfACrashedCoordinator_ResumesOnAnotherOnceItsLeaseExpires()
    {
        string id;
        await using (SagaTestHost starter = await SagaTestHost.StartAsync(b =>
        {
            b.Store = _store;
            b.Ledger = _ledger;
            b.Options(o => o.RunCoordinator = false);
            b.Saga("order", saga => saga.Step("charge").Execute(_ledger.Ok<TestData>()));
        }))
        {
            id = await starter.StartSagaAsync();
        }

        // A coordinator takes the saga and dies without a word: its lease runs out on its own.
        IReadOnlyList<SagaRecord> taken = await _store.AcquireAsync("crashed", ["order"], 10, TimeSpan.FromMilliseconds(300), SagaTestHost.Ct);
        Assert.Equal(id, Assert.Single(taken).Id);

        await using SagaTestHost survivor = await HostAsync(saga => saga.Step("charge").Execute(_ledger.Ok<TestData>()));
        SagaSnapshot end = await survivor.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(["charge"], _ledger.Forward(id));
        Assert.Equal(2, (await survivor.HistoryAsync(id))[^1].LeaseToken);
    }

    [Fact]
    public async Task StepStillRunningAtTheShutdownTimeout_IsCanceled_AndRunsAgainElsewhere_WithTheSameKey()
    {
        Gate charge = new();
        void Define(SagaBuilder<TestData> saga)
        {
            saga.Step("reserve").Execute(_ledger.Ok<TestData>());
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                _ledger.Record(ctx);
                if (!charge.IsReleased)
                {
                    await charge.WaitAsync(ct);
                }
            });
        }

        string id;
        await using (SagaTestHost first = await HostAsync(Define, o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(100)))
        {
            id = await first.StartSagaAsync();
            await charge.EnteredAsync();
            await first.StopAsync().WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
            Assert.Single(first.Logs.GetSnapshot(), r => r.Id.Id == 4010);
        }

        Assert.True(await charge.SawCancellation);
        SagaRecord stopped = (await _store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, stopped.Status);
        Assert.Null(stopped.LeaseOwner);
        charge.Release();

        await using SagaTestHost second = await HostAsync(Define);
        Assert.Equal(SagaStatus.Completed, (await second.WaitForEndAsync(id)).Status);
        Assert.Equal(["reserve", "charge", "charge"], _ledger.Forward(id));
        Assert.Single(_ledger.Attempts(id, "charge").Select(a => a.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task StopDuringCompensation_ResumesTheCompensationElsewhere_WithoutRedoingFinishedUndos()
    {
        Gate undoCharge = new();
        void Define(SagaBuilder<TestData> saga)
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
            saga.Step("ship").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
            saga.Step("invoice").Execute(_ledger.FailsForGood<TestData>());
        }

        string id;
        await using (SagaTestHost first = await HostAsync(Define))
        {
            id = await first.StartSagaAsync();
            await undoCharge.EnteredAsync();
            Task stopping = first.StopAsync();
            undoCharge.Release();
            await stopping.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        }

        SagaRecord stopped = (await _store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Compensating, stopped.Status);
        Assert.Equal(["ship", "charge"], _ledger.Compensations(id));

        await using SagaTestHost second = await HostAsync(Define);
        Assert.Equal(SagaStatus.Compensated, (await second.WaitForEndAsync(id)).Status);
        Assert.Equal(["ship", "charge", "reserve"], _ledger.Compensations(id));
        Assert.Equal(["reserve", "charge", "ship", "invoice"], _ledger.Forward(id));
    }

    [Fact]
    public async Task RenewedLease_IsNotTakenByAnotherHost_WhileTheStepRunsLongerThanTheLeaseDuration()
    {
        Gate charge = new();
        void Define(SagaBuilder<TestData> saga) =>
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                _ledger.Record(ctx);
                await charge.WaitAsync(ct);
            });
        static void ShortLeases(SagaOptions o)
        {
            o.LeaseDuration = TimeSpan.FromMilliseconds(2400);
            o.LeaseRenewalInterval = TimeSpan.FromMilliseconds(200);
        }

        await using SagaTestHost first = await HostAsync(Define, ShortLeases);
        await using SagaTestHost second = await HostAsync(Define, ShortLeases);
        string id = await first.StartSagaAsync();
        await charge.EnteredAsync();

        // Longer than the lease: without renewals the second host would take the saga and run the step again.
        await Eventually.QuietPeriodAsync(3000);
        charge.Release();

        Assert.Equal(SagaStatus.Completed, (await first.WaitForEndAsync(id)).Status);
        Assert.Single(_ledger.Forward(id));
        IReadOnlyList<SagaEvent> history = await first.HistoryAsync(id);
        Assert.Single(history.Skip(1).Select(e => e.LeaseToken).Distinct());
    }
}
