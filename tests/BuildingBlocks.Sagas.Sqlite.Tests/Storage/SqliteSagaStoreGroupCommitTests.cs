using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Sagas.Sqlite.Tests.Support;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Storage;

/// <summary>
/// Many writes in flight at once are committed together, yet each caller gets its own fenced result and a write that
/// fails undoes only itself.
/// </summary>
public sealed class SqliteSagaStoreGroupCommitTests : SqliteSagaStoreTests
{
    private const string A = SagaStoreHarness.OwnerA;
    private const string B = SagaStoreHarness.OwnerB;

    /// <summary>Counts the transactions the store's writer connection commits from now on (SQLite's commit hook).</summary>
    private static Func<int> CountCommits(SqliteSagaStore store)
    {
        var commits = new StrongBox<int>();
        raw.sqlite3_commit_hook(
            store.WriterConnection!.Handle,
            static state =>
            {
                Interlocked.Increment(ref ((StrongBox<int>)state).Value);
                return 0;
            },
            commits);
        return () => Volatile.Read(ref commits.Value);
    }

    /// <summary>
    /// Issues every call while another connection holds the file's write lock, so all of them queue (the first one to
    /// take the store's lock waits for the file), then lets them go: the queue is committed in at most two transactions.
    /// </summary>
    private async Task<T[]> RunQueuedAsync<T>(List<Func<Task<T>>> calls)
    {
        SqliteConnection blocker = Files.OpenConnection();
        SqliteSagaTestFiles.Execute(blocker, "BEGIN IMMEDIATE;");
        int issued = 0;
        Task<T>[] tasks = [.. calls.Select(call => Task.Run(
            () =>
            {
                Task<T> task = call();
                Interlocked.Increment(ref issued);
                return task;
            },
            Ct))];

        // Every call but the one waiting for the file lock returns at once, queued behind it.
        while (Volatile.Read(ref issued) < calls.Count - 1)
        {
            await Task.Delay(1, Ct);
        }

        SqliteSagaTestFiles.Execute(blocker, "ROLLBACK;");
        return await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task TwoHundredConcurrentCheckpoints_HalfWithStaleTokens_EachGetsItsOwnFencedResult()
    {
        SagaStoreHarness s = Harness();
        string[] ids = [.. Enumerable.Range(0, 100).Select(i => $"order-{i:D3}")];
        await s.CreateManyAsync(ids);
        Dictionary<string, SagaRecord> stale = (await s.AcquireAsync(A, 100)).ToDictionary(r => r.Id);
        Time.Advance(SagaStoreHarness.DefaultLease);
        Dictionary<string, SagaRecord> current = (await s.AcquireAsync(B, 100)).ToDictionary(r => r.Id);
        Assert.Equal(100, current.Count);

        // Interleaved, so stale and current writes of one saga share a transaction in either order.
        var calls = new List<(string Id, bool Stale, Func<Task<bool>> Write)>();
        foreach (string id in ids)
        {
            bool staleFirst = string.CompareOrdinal(id, "order-050") < 0;
            foreach (bool isStale in staleFirst ? new[] { true, false } : [false, true])
            {
                SagaRecord lease = isStale ? stale[id] : current[id];
                SagaCheckpoint checkpoint = s.Checkpoint(
                    lease,
                    isStale ? SagaStatus.Completed : SagaStatus.Compensating,
                    data: $"{lease.LeaseOwner}:{id}",
                    error: isStale ? null : "declined",
                    events: [s.Event(2, SagaEventKind.StepFailed, detail: lease.LeaseOwner, leaseToken: lease.LeaseToken)],
                    releaseLease: isStale);
                calls.Add((id, isStale, () => s.CheckpointAsync(checkpoint)));
            }
        }

        Func<int> commits = CountCommits((SqliteSagaStore)s.Store);
        bool[] results = await RunQueuedAsync([.. calls.Select(c => c.Write)]);

        Assert.InRange(commits(), 1, 2);
        for (int i = 0; i < calls.Count; i++)
        {
            Assert.True(results[i] == !calls[i].Stale, $"{(calls[i].Stale ? "stale" : "current")} checkpoint of {calls[i].Id} returned {results[i]}");
        }

        foreach (string id in ids)
        {
            SagaRecord stored = await s.GetAsync(id);
            Assert.Equal((SagaStatus.Compensating, $"{B}:{id}", "declined", B, 2L), (stored.Status, stored.Data, stored.Error, stored.LeaseOwner, stored.LeaseToken));
            SagaEvent line = (await s.EventsAsync(id))[^1];
            Assert.Equal((2L, B), (line.Sequence, line.Detail));
        }
    }

    [Fact]
    public async Task QueuedCheckpoints_AreCommittedTogether_InOneOrTwoTransactions()
    {
        SagaStoreHarness s = Harness();
        string[] ids = [.. Enumerable.Range(0, 200).Select(i => $"order-{i:D3}")];
        await s.CreateManyAsync(ids);
        IReadOnlyList<SagaRecord> leased = await s.AcquireAsync(A, 200);
        Func<int> commits = CountCommits((SqliteSagaStore)s.Store);

        bool[] written = await RunQueuedAsync([.. leased.Select(r => (Func<Task<bool>>)(() => s.CheckpointAsync(s.Checkpoint(r, events: [s.Event(2, leaseToken: 1)]))))]);

        Assert.All(written, Assert.True);
        Assert.InRange(commits(), 1, 2);
        Assert.All(await Task.WhenAll(ids.Select(s.EventsAsync)), events => Assert.Equal(2, events.Count));
    }

    [Fact]
    public async Task AFailingWriteInAGroup_UndoesOnlyItself()
    {
        SagaStoreHarness s = Harness();
        string[] ids = [.. Enumerable.Range(0, 50).Select(i => $"order-{i:D2}")];
        await s.CreateManyAsync(ids);
        IReadOnlyList<SagaRecord> leased = await s.AcquireAsync(A, 50);
        SagaRecord victim = leased[25];
        StoredSaga victimBefore = await s.SnapshotAsync(victim.Id);

        // The victim repeats sequence 1 (its start line): the history key refuses it after its row was already updated.
        Func<int> commits = CountCommits((SqliteSagaStore)s.Store);
        Task<bool>[] calls = await RunQueuedAsync([.. leased.Select(r => (Func<Task<Task<bool>>>)(() => Task.FromResult(s.CheckpointAsync(s.Checkpoint(
            r,
            data: $"new:{r.Id}",
            events: r.Id == victim.Id ? [s.Event(2), s.Event(1)] : [s.Event(2, leaseToken: 1)])))))]);

        for (int i = 0; i < leased.Count; i++)
        {
            string id = leased[i].Id;
            if (id == victim.Id)
            {
                InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => calls[i]);
                Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
                Assert.Contains("saga_events", error.Message, StringComparison.Ordinal);
                Assert.IsType<SqliteException>(error.InnerException);
            }
            else
            {
                Assert.True(await calls[i]);
                Assert.Equal($"new:{id}", (await s.GetAsync(id)).Data);
                Assert.Equal(2, (await s.EventsAsync(id)).Count);
            }
        }

        Assert.InRange(commits(), 1, 2);
        await s.AssertUnchangedAsync(victimBefore);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(victim, data: "the store goes on", events: [s.Event(2)])));
    }

    [Fact]
    public async Task ALoneFailingCreate_StoresNeitherTheRowNorAnyLine()
    {
        SagaStoreHarness s = Harness();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await s.Store.CreateAsync(s.Saga("order-1"), [s.Started(), s.Event(2), s.Event(2)], Ct));

        Assert.Null(await s.Store.GetAsync("order-1", Ct));
        Assert.Empty(await s.EventsAsync("order-1"));
        Assert.True(await s.Store.CreateAsync(s.Saga("order-1"), [s.Started()], Ct));
    }

    [Fact]
    public async Task MixedConcurrentWrites_EachGetTheirOwnResult()
    {
        SagaStoreHarness s = Harness();
        await s.CreateManyAsync(Enumerable.Range(0, 20).Select(i => $"held-{i:D2}"));
        IReadOnlyList<SagaRecord> held = await s.AcquireAsync(A, 20);
        await s.CreateManyAsync(Enumerable.Range(0, 20).Select(i => $"parked-{i:D2}"), SagaStatus.Suspended);
        await s.CreateManyAsync(Enumerable.Range(0, 10).Select(i => $"free-{i:D2}"));

        var calls = new List<Func<Task<object>>>();
        calls.AddRange(Enumerable.Range(0, 10).Select(i => (Func<Task<object>>)(async () => await s.Store.CreateAsync(s.Saga($"held-{i:D2}"), [], Ct))));
        calls.AddRange(Enumerable.Range(0, 10).Select(i => (Func<Task<object>>)(async () => await s.Store.CreateAsync(s.Saga($"new-{i:D2}", SagaStatus.Completed), [], Ct))));
        calls.AddRange(held.Take(10).Select(r => (Func<Task<object>>)(async () => await s.CheckpointAsync(s.Checkpoint(r, data: "checkpointed")))));
        calls.AddRange(held.Skip(10).Select(r => (Func<Task<object>>)(async () => await s.CheckpointAsync(s.Checkpoint(r, owner: B)))));
        calls.Add(async () => await s.RenewAsync(A, [.. held.Skip(10).Select(r => new SagaLease(r.Id, r.LeaseToken)), new SagaLease("free-00", 0)]));
        calls.AddRange(Enumerable.Range(0, 20).Select(i => (Func<Task<object>>)(async () => await s.TransitionAsync(new SagaTransition
        {
            SagaId = $"parked-{i:D2}", ExpectedStatus = SagaStatus.Suspended, Status = SagaStatus.Resolved, UpdatedAt = s.Now, Events = [],
        }))));
        calls.Add(async () => await s.AcquireAsync(B, 100));

        object[] results = await RunQueuedAsync(calls);

        Assert.All(results[0..10], r => Assert.False((bool)r));
        Assert.All(results[10..30], r => Assert.True((bool)r));
        Assert.All(results[30..40], r => Assert.False((bool)r));
        Assert.Equal(["free-00"], (IReadOnlyList<string>)results[40]);
        Assert.All(results[41..61], r => Assert.True((bool)r));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"free-{i:D2}"), ((IReadOnlyList<SagaRecord>)results[61]).Select(r => r.Id).Order(StringComparer.Ordinal));
        foreach (SagaRecord saga in held.Take(10))
        {
            Assert.Equal("checkpointed", (await s.GetAsync(saga.Id)).Data);
        }
        IReadOnlyDictionary<SagaStatus, long> counts = await s.Store.CountByStatusAsync(Ct);
        Assert.Equal((30L, 10L, 20L), (counts[SagaStatus.Running], counts[SagaStatus.Completed], counts[SagaStatus.Resolved]));
    }

    [Fact]
    public async Task WithoutGroupCommit_EveryWriteIsItsOwnTransaction_AndResultsAreTheSame()
    {
        SagaStoreHarness s = Harness(configure: o => o.MaxWritesPerTransaction = 1);
        await s.CreateManyAsync(Enumerable.Range(0, 20).Select(i => $"order-{i:D2}"));
        IReadOnlyList<SagaRecord> stale = await s.AcquireAsync(A, 20);
        Time.Advance(SagaStoreHarness.DefaultLease);
        IReadOnlyList<SagaRecord> current = await s.AcquireAsync(B, 20);
        Func<int> commits = CountCommits((SqliteSagaStore)s.Store);

        bool[] staleResults = await Task.WhenAll(stale.Select(r => s.CheckpointAsync(s.Checkpoint(r))));
        bool[] currentResults = await Task.WhenAll(current.Select(r => s.CheckpointAsync(s.Checkpoint(r))));

        Assert.All(staleResults, Assert.False);
        Assert.All(currentResults, Assert.True);
        Assert.Equal(40, commits());
    }

    [Fact]
    public async Task ACanceledCallThatNoTransactionTookYet_ThrowsAndWritesNothing()
    {
        SagaStoreHarness s = Harness();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();
        StoredSaga before = await s.SnapshotAsync("order-1");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await s.Store.CheckpointAsync(s.Checkpoint(leased, data: "canceled"), canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await s.Store.AcquireAsync(B, SagaStoreHarness.DefaultNames, 1, TimeSpan.Zero, canceled.Token));

        await s.AssertUnchangedAsync(before);
    }
}
