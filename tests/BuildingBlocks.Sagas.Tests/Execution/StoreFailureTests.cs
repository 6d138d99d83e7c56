using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Execution;

public sealed class StoreFailureTests
{
    [Fact]
    public async Task CheckpointThatFails_StopsTheRun_AndTheSagaResumesFromItsLastCheckpoint_RepeatingTheStepWithTheSameKey()
    {
        FlakyStore store = new(new InMemorySagaStore());
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Saga("order", saga =>
            {
                saga.Step("reserve").Execute(b.Ledger.Ok<TestData>());
                saga.Step("charge").Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    if (b.Ledger.Attempts(ctx.SagaId, "charge").Count == 1)
                    {
                        store.FailCheckpoints(1); // the outcome of this first call will not be written
                    }

                    return Task.CompletedTask;
                });
                saga.Step("ship").Execute(b.Ledger.Ok<TestData>());
            });
        });

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(["reserve", "charge", "charge", "ship"], host.Ledger.Forward(id));
        IReadOnlyList<LedgerEntry> charges = host.Ledger.Attempts(id, "charge");
        Assert.Equal(charges[0].IdempotencyKey, charges[1].IdempotencyKey);
        Microsoft.Extensions.Logging.Testing.FakeLogRecord failed = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 4007);
        Assert.Contains(id, failed.Message, StringComparison.Ordinal);
        Assert.Equal("database unavailable (checkpoint)", failed.Exception!.Message);
        Assert.Equal(["Started", "StepCompleted reserve#1", "StepCompleted charge#1", "StepCompleted ship#1", "Completed"], await host.HistoryLinesAsync(id));
    }

    [Fact]
    public async Task AcquireThatFails_IsLogged_AndPollingGoesOn_UntilTheStoreAnswers()
    {
        InMemorySagaStore inner = new();
        string id;
        await using (SagaTestHost starter = await SagaTestHost.StartAsync(b =>
        {
            b.Store = inner;
            b.Options(o => o.RunCoordinator = false);
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        }))
        {
            id = await starter.StartSagaAsync();
        }

        FlakyStore store = new(inner);
        store.FailAcquires(2);
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        });

        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
        Microsoft.Extensions.Logging.Testing.FakeLogRecord[] failures = [.. host.Logs.GetSnapshot().Where(r => r.Id.Id == 4006)];
        Assert.Equal(2, failures.Length);
        Assert.All(failures, f => Assert.Contains("'acquire'", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartWhoseCreateFails_ThrowsTheStoreError_AndFreesTheSlot()
    {
        ThrowingCreateStore store = new(new InMemorySagaStore());
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Options(o => o.MaxConcurrentSagas = 1);
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        });

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.StartSagaAsync());
        store.Fail = false;

        // The one slot was given back: the next start runs at once on this coordinator.
        // With the slot still taken, the coordinator (MaxConcurrentSagas 1) would never run it.
        string id = await host.StartSagaAsync();
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    private sealed class ThrowingCreateStore(ISagaStore inner) : ISagaStore
    {
        public volatile bool Fail = true;

        public ValueTask<bool> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent> events, CancellationToken cancellationToken) =>
            Fail ? ValueTask.FromException<bool>(new InvalidOperationException("database unavailable (create)")) : inner.CreateAsync(saga, events, cancellationToken);

        public ValueTask<bool> CheckpointAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken) => inner.CheckpointAsync(checkpoint, cancellationToken);

        public ValueTask<IReadOnlyList<SagaRecord>> AcquireAsync(string owner, IReadOnlyCollection<string> names, int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
            inner.AcquireAsync(owner, names, maxCount, leaseDuration, cancellationToken);

        public ValueTask<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
            inner.RenewLeasesAsync(owner, leases, leaseDuration, cancellationToken);

        public ValueTask ReleaseLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, CancellationToken cancellationToken) => inner.ReleaseLeasesAsync(owner, leases, cancellationToken);

        public ValueTask<SagaRecord?> GetAsync(string sagaId, CancellationToken cancellationToken) => inner.GetAsync(sagaId, cancellationToken);

        public ValueTask<IReadOnlyList<SagaEvent>> GetEventsAsync(string sagaId, CancellationToken cancellationToken) => inner.GetEventsAsync(sagaId, cancellationToken);

        public ValueTask<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

        public ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken) => inner.CountByStatusAsync(cancellationToken);

        public ValueTask<bool> TransitionAsync(SagaTransition transition, CancellationToken cancellationToken) => inner.TransitionAsync(transition, cancellationToken);
    }
}
