using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Versioning;

/// <summary>
/// A rolling deploy: old processes know version 1 only, new ones version 2 (which resumes version 1 and adds a step).
/// A version-1 saga carried on by a new process, then picked up by an old one, must not lose the new step's compensation.
/// </summary>
public sealed class RollingDeployTests
{
    private readonly InMemorySagaStore _store = new();
    private readonly Ledger _ledger = new();

    private void V1(SagaBuilder<TestData> saga)
    {
        saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
        saga.Step("charge").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
        saga.Step("ship").Execute(_ledger.FailsForGood<TestData>("no courier"));
    }

    private Task<SagaTestHost> HostAsync(int version, Action<SagaBuilder<TestData>> define, Action<SagaOptions>? options = null) =>
        SagaTestHost.StartAsync(b =>
        {
            b.Store = _store;
            b.Ledger = _ledger;
            b.Options(options ?? (_ => { }));
            b.Saga("order", version, define);
        });

    [Fact]
    public async Task SagaAdvancedByANewerResumingVersion_IsNotFinishedByAnOldCoordinator_WithoutUndoingTheNewSteps()
    {
        string id;
        await using (SagaTestHost starter = await HostAsync(1, V1, o => o.RunCoordinator = false))
        {
            id = await starter.StartSagaAsync();
        }

        Gate ship = new();
        await using (SagaTestHost v2 = await HostAsync(
            2,
            saga =>
            {
                saga.ResumesVersions(1);
                saga.Step("reserve").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
                saga.Step("charge").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
                saga.Step("insure").Execute(_ledger.Ok<TestData>()).Compensate(_ledger.Ok<TestData>());
                saga.Step("ship").Execute(async (ctx, ct) =>
                {
                    _ledger.Record(ctx);
                    await ship.WaitAsync(ct);
                });
            },
            o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(50)))
        {
            await ship.EnteredAsync();
            await v2.StopAsync();
        }

        Assert.Equal(["reserve", "charge", "insure", "ship"], _ledger.Forward(id));

        // An old process (version 1 only) finds the saga.
        await using SagaTestHost old = await HostAsync(1, V1);
        await Eventually.HoldsAsync(
            async () => (await old.Client.GetAsync(id, SagaTestHost.Ct))!.IsFinished || old.Logs.GetSnapshot().Any(r => r.Id.Id == 4009),
            () => "the old coordinator finished the saga or left it alone");
        await Eventually.QuietPeriodAsync();

        SagaSnapshot now = (await old.Client.GetAsync(id, SagaTestHost.Ct))!;
        IReadOnlyList<string> undone = _ledger.Compensations(id);
        Assert.False(
            now.Status == SagaStatus.Compensated && !undone.Contains("insure"),
            $"The saga ended {now.Status} having undone [{string.Join(", ", undone)}]: 'insure', completed under version 2, was never compensated.");
    }
}
