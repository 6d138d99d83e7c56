using System.Collections.Concurrent;
using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Sagas.Sqlite.Tests.Support;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Storage;

/// <summary>
/// Two store instances on one file, as two processes on one machine would have (each instance has its own writer
/// connection and its own in-process lock; only the file's lock orders them), and a store reopened after dispose.
/// </summary>
public sealed class SqliteSagaStoreSharedFileTests : SqliteSagaStoreTests
{
    private const string A = SagaStoreHarness.OwnerA;
    private const string B = SagaStoreHarness.OwnerB;

    [Fact]
    public async Task Fencing_HoldsAcrossTwoStoresOnOneFile()
    {
        SagaStoreHarness nodeA = Harness();
        SagaStoreHarness nodeB = Harness();
        SagaRecord leasedByA = await nodeA.CreateAndAcquireAsync("order-1", A);
        Assert.Empty(await nodeB.AcquireAsync(B));

        Time.Advance(SagaStoreHarness.DefaultLease);
        SagaRecord leasedByB = await nodeB.AcquireOneAsync(B);
        Assert.Equal(leasedByA.LeaseToken + 1, leasedByB.LeaseToken);

        Assert.False(await nodeA.CheckpointAsync(nodeA.Checkpoint(leasedByA, SagaStatus.Completed, data: "from A", events: [nodeA.Event(2)], releaseLease: true)));
        Assert.Equal([leasedByA.Id], await nodeA.RenewAsync(A, new SagaLease(leasedByA.Id, leasedByA.LeaseToken)));
        await nodeA.ReleaseAsync(A, new SagaLease(leasedByA.Id, leasedByA.LeaseToken));
        Assert.True(await nodeB.CheckpointAsync(nodeB.Checkpoint(leasedByB, data: "from B", events: [nodeB.Event(2, leaseToken: 2)])));

        SagaRecord seenByA = await nodeA.GetAsync("order-1");
        Assert.Equal(("from B", B, 2L), (seenByA.Data, seenByA.LeaseOwner, seenByA.LeaseToken));
        Assert.Equal([0L, 2L], (await nodeA.EventsAsync("order-1")).Select(e => e.LeaseToken));
    }

    [Fact]
    public async Task ConcurrentAcquirersOnTwoStores_NeverShareASaga()
    {
        SagaStoreHarness[] nodes = [Harness(), Harness()];
        string[] ids = [.. Enumerable.Range(0, 200).Select(i => $"order-{i:D3}")];
        await nodes[0].CreateManyAsync(ids);
        var taken = new ConcurrentBag<(string Owner, string Id, long Token)>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(a => Task.Run(
            async () =>
            {
                SagaStoreHarness node = nodes[a % 2];
                string owner = $"node-{a % 2}-worker-{a}";
                while (true)
                {
                    IReadOnlyList<SagaRecord> batch = await node.Store.AcquireAsync(owner, SagaStoreHarness.DefaultNames, 5, SagaStoreHarness.DefaultLease, Ct);
                    if (batch.Count == 0)
                    {
                        return;
                    }

                    foreach (SagaRecord saga in batch)
                    {
                        taken.Add((owner, saga.Id, saga.LeaseToken));
                    }
                }
            },
            Ct)));

        Assert.Equal(ids, taken.Select(t => t.Id).Order(StringComparer.Ordinal));
        Assert.All(taken, t => Assert.Equal(1, t.Token));
        foreach ((string owner, string id, long _) in taken)
        {
            Assert.Equal(owner, (await nodes[1].GetAsync(id)).LeaseOwner);
        }
    }

    [Fact]
    public async Task ConcurrentCheckpointsFromTwoStores_AllLand()
    {
        SagaStoreHarness nodeA = Harness();
        SagaStoreHarness nodeB = Harness();
        string[] ids = [.. Enumerable.Range(0, 60).Select(i => $"order-{i:D2}")];
        await nodeA.CreateManyAsync(ids);
        IReadOnlyList<SagaRecord> forA = await nodeA.AcquireAsync(A, 30);
        IReadOnlyList<SagaRecord> forB = await nodeB.AcquireAsync(B, 30);

        bool[] written = await Task.WhenAll(
            forA.Select(r => nodeA.CheckpointAsync(nodeA.Checkpoint(r, data: $"A:{r.Id}", events: [nodeA.Event(2, leaseToken: 1)])))
                .Concat(forB.Select(r => nodeB.CheckpointAsync(nodeB.Checkpoint(r, data: $"B:{r.Id}", events: [nodeB.Event(2, leaseToken: 1)])))));

        Assert.All(written, Assert.True);
        foreach (SagaRecord saga in forA.Concat(forB))
        {
            Assert.Equal($"{(saga.LeaseOwner == A ? "A" : "B")}:{saga.Id}", (await nodeB.GetAsync(saga.Id)).Data);
            Assert.Equal(2, (await nodeA.EventsAsync(saga.Id)).Count);
        }
    }

    [Fact]
    public async Task EverythingSurvivesDisposeAndReopen_AndFencingGoesOn()
    {
        SagaStoreHarness first = Harness();
        SagaRecord leased = await first.CreateAndAcquireAsync("order-1");
        Assert.True(await first.CheckpointAsync(first.Checkpoint(leased, SagaStatus.Compensating, data: "after step", error: "declined", events: [first.Event(2, SagaEventKind.StepFailed, detail: "declined", leaseToken: 1)])));
        await first.CreateAsync("order-2", SagaStatus.Suspended);
        StoredSaga before1 = await first.SnapshotAsync("order-1");
        StoredSaga before2 = await first.SnapshotAsync("order-2");
        await ((SqliteSagaStore)first.Store).DisposeAsync();

        SagaStoreHarness reopened = Harness();

        await reopened.AssertUnchangedAsync(before1);
        await reopened.AssertUnchangedAsync(before2);
        Assert.Empty(await reopened.AcquireAsync(B));
        Assert.True(await reopened.CheckpointAsync(reopened.Checkpoint(leased, SagaStatus.Compensating, data: "the holder writes on after the restart")));
        Time.Advance(SagaStoreHarness.DefaultLease);
        SagaRecord takenOver = await reopened.AcquireOneAsync(B);
        Assert.Equal(2, takenOver.LeaseToken);
        Assert.False(await reopened.CheckpointAsync(reopened.Checkpoint(leased)));
    }

    [Fact]
    public async Task AfterDispose_CallsThrowObjectDisposed_AndDisposeTwiceIsHarmless()
    {
        SagaStoreHarness s = Harness();
        await s.CreateAsync("order-1");
        var store = (SqliteSagaStore)s.Store;

        await store.DisposeAsync();
        await store.DisposeAsync();
        store.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetAsync("order-1", Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.CreateAsync(s.Saga("order-2"), [], Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AcquireAsync(A, SagaStoreHarness.DefaultNames, 1, SagaStoreHarness.DefaultLease, Ct));
    }

    [Fact]
    public async Task DisposeWhileWritesAreQueued_EveryCallEnds_CommittedOrObjectDisposed()
    {
        SagaStoreHarness s = Harness();
        await s.CreateAsync("warm-up");
        var store = (SqliteSagaStore)s.Store;
        Task<bool>[] creates = [.. Enumerable.Range(0, 100).Select(i => store.CreateAsync(s.Saga($"order-{i:D3}"), [], Ct).AsTask())];

        await store.DisposeAsync();

        int committed = 0;
        foreach (Task<bool> create in creates)
        {
            try
            {
                Assert.True(await create);
                committed++;
            }
            catch (ObjectDisposedException)
            {
            }
        }

        SagaStoreHarness reopened = Harness();
        Assert.Equal(committed + 1, (await reopened.QueryAsync(new SagaQuery { Limit = 1000 })).Count);
    }
}
