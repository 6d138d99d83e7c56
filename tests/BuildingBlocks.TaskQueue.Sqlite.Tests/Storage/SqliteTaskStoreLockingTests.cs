using System.Collections.Concurrent;
using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.TaskQueue.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Storage;

/// <summary>
/// Several writers on one file. A second <see cref="SqliteTaskStore"/> or a plain connection on the same file stands in
/// for another process: each has its own SQLite connection, and SQLite's file locks apply between them exactly as they
/// do between processes.
/// </summary>
public sealed class SqliteTaskStoreLockingTests : SqliteStoreTests
{
    [Fact]
    public async Task Enqueue_WhenAnotherConnectionHoldsTheWriteLockBriefly_WaitsAndSucceeds()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        await s.EnqueueAsync();
        SqliteConnection other = Files.OpenConnection();
        SqliteTestFiles.Execute(other, "BEGIN IMMEDIATE;");

        Task<IReadOnlyList<EnqueueResult>> enqueue = Task.Run(async () => await store.EnqueueAsync([s.Insert(payload: [7])], Ct), Ct);
        await Task.Delay(TimeSpan.FromMilliseconds(150), Ct);
        Assert.False(enqueue.IsCompleted, "The enqueue cannot finish while another connection holds the write lock.");
        SqliteTestFiles.Execute(other, "COMMIT;");

        EnqueueResult result = Assert.Single(await enqueue);
        Assert.True(result.Created);
        Assert.Equal(new byte[] { 7 }, (await s.GetAsync(result.TaskId)).Payload.ToArray());
    }

    [Fact]
    public async Task Enqueue_WhenTheWriteLockIsHeldLongerThanBusyTimeout_ThrowsTaskStoreExceptionNamingTheFile_AndTheDataIsIntact()
    {
        SqliteTaskStore store = Files.CreateStore(Time, busyTimeout: TimeSpan.FromMilliseconds(200));
        var s = new TaskStoreHarness(store, Time);
        IReadOnlyList<EnqueueResult> stored = await store.EnqueueAsync([s.Insert(payload: [1]), s.Insert(payload: [2]), s.Insert(payload: [3])], Ct);
        LeasedTask lease = await s.ClaimOneAsync();
        SqliteConnection other = Files.OpenConnection();
        SqliteTestFiles.Execute(other, "BEGIN IMMEDIATE;");

        TaskStoreException enqueueError = await Assert.ThrowsAsync<TaskStoreException>(async () => await store.EnqueueAsync([s.Insert(payload: [4])], Ct));
        TaskStoreException completeError = await Assert.ThrowsAsync<TaskStoreException>(async () => await store.CompleteAsync(lease.Id, lease.LeaseToken, Ct));

        foreach (TaskStoreException error in new[] { enqueueError, completeError })
        {
            Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
            Assert.Contains("longer than BusyTimeout (00:00:00.2000000)", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("database is locked", error.Message, StringComparison.OrdinalIgnoreCase);
        }

        SqliteTestFiles.Execute(other, "ROLLBACK;");
        IReadOnlyList<TaskSnapshot> tasks = await s.ListAsync();
        Assert.Equal(stored.Select(r => r.TaskId), tasks.Select(t => t.Id));
        Assert.Equal(TaskState.Leased, tasks[0].State);
        Assert.True(await store.CompleteAsync(lease.Id, lease.LeaseToken, Ct), "The store works again once the lock is released.");
        Assert.True(Assert.Single(await store.EnqueueAsync([s.Insert(payload: [4])], Ct)).Created);
    }

    [Fact]
    public async Task FirstUse_WhenAnotherProcessLocksTheFileExclusivelyLongerThanBusyTimeout_ThrowsTaskStoreException_ThenWorksOnceReleased()
    {
        // Another program holds an exclusive lock on a new file (rollback-journal mode): nobody may even read it.
        SqliteConnection other = Files.OpenConnection();
        SqliteTestFiles.Execute(other, "BEGIN EXCLUSIVE;");
        SqliteTaskStore store = Files.CreateStore(Time, busyTimeout: TimeSpan.FromMilliseconds(200));
        var s = new TaskStoreHarness(store, Time);

        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await store.EnqueueAsync([s.Insert()], Ct));

        Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("BusyTimeout", error.Message, StringComparison.Ordinal);
        SqliteTestFiles.Execute(other, "ROLLBACK;");
        long id = await s.EnqueueAsync();
        Assert.Equal(TaskState.Queued, (await s.GetAsync(id)).State);
    }

    [Fact]
    public async Task TwoStoresOnOneFile_ClaimConcurrently_NeverClaimTheSameTaskTwice_AndNeverReportLocked()
    {
        const int taskCount = 2_000;
        SqliteTaskStore storeA = Files.CreateStore(Time);
        SqliteTaskStore storeB = Files.CreateStore(Time);
        var a = new TaskStoreHarness(storeA, Time);
        IReadOnlyList<EnqueueResult> enqueued = await storeA.EnqueueAsync([.. Enumerable.Range(0, taskCount).Select(i => a.Insert(priority: i % 5))], Ct);
        var claims = new ConcurrentBag<LeasedTask>();

        async Task ClaimAndCompleteAsync(SqliteTaskStore store, string worker)
        {
            await Task.Yield();
            while (true)
            {
                IReadOnlyList<LeasedTask> batch = await store.ClaimAsync(new ClaimRequest(TaskStoreHarness.DefaultQueue, worker, 8, TaskStoreHarness.DefaultLease), Ct);
                if (batch.Count == 0)
                {
                    return;
                }

                foreach (LeasedTask task in batch)
                {
                    claims.Add(task);
                    Assert.True(await store.CompleteAsync(task.Id, task.LeaseToken, Ct), $"{worker} lost the lease it had just claimed on task {task.Id}.");
                }
            }
        }

        await Task.WhenAll(
            Task.Run(() => ClaimAndCompleteAsync(storeA, "a-1"), Ct),
            Task.Run(() => ClaimAndCompleteAsync(storeA, "a-2"), Ct),
            Task.Run(() => ClaimAndCompleteAsync(storeB, "b-1"), Ct),
            Task.Run(() => ClaimAndCompleteAsync(storeB, "b-2"), Ct));

        long[] claimedIds = [.. claims.Select(c => c.Id).Order()];
        Assert.Equal(enqueued.Select(r => r.TaskId).Order(), claimedIds);
        Assert.All(claims, c => Assert.Equal(1, c.Attempt));
        QueueStatistics statistics = Assert.Single(await storeB.GetStatisticsAsync(Ct));
        Assert.Equal(taskCount, statistics.Completed);
        Assert.Equal(0, statistics.Ready + statistics.Leased);
    }

    [Fact]
    public async Task TwoStoresOnOneFile_EnqueueTheSameUniqueKeysConcurrently_CreateEachKeyOnce()
    {
        // Each enqueue reads the key, then inserts: both must happen under one write lock, or the other store's commit in
        // between makes the insert fail (SQLITE_BUSY_SNAPSHOT) or duplicate the key.
        const int keyCount = 300;
        SqliteTaskStore storeA = Files.CreateStore(Time);
        SqliteTaskStore storeB = Files.CreateStore(Time);
        var a = new TaskStoreHarness(storeA, Time);

        async Task<EnqueueResult[]> EnqueueEachKeyAsync(SqliteTaskStore store)
        {
            await Task.Yield();
            var results = new EnqueueResult[keyCount];
            for (int i = 0; i < keyCount; i++)
            {
                results[i] = Assert.Single(await store.EnqueueAsync([a.Insert(uniqueKey: $"key-{i}")], Ct));
            }

            return results;
        }

        EnqueueResult[][] results = await Task.WhenAll(Task.Run(() => EnqueueEachKeyAsync(storeA), Ct), Task.Run(() => EnqueueEachKeyAsync(storeB), Ct));

        Assert.Equal(results[0].Select(r => r.TaskId), results[1].Select(r => r.TaskId));
        Assert.Equal(keyCount, results.SelectMany(r => r).Count(r => r.Created));
        Assert.Equal(keyCount, (await a.ListAsync()).Count);
    }

    [Fact]
    public async Task ManyStoresOpenOneNewFileAtOnce_EveryOneAcceptsTheSchemaTheFirstCreated()
    {
        // A store that read the version before another store's schema commit and the table list after it saw "version 0
        // with tables" and refused a valid file. Many rounds of four stores racing on a fresh file make that window likely.
        const int rounds = 25;
        const int storesPerFile = 4;
        for (int round = 0; round < rounds; round++)
        {
            string name = $"race-{round}.db";
            SqliteTaskStore[] stores = [.. Enumerable.Range(0, storesPerFile).Select(_ => Files.CreateStore(Time, name))];
            var first = new TaskStoreHarness(stores[0], Time);

            IReadOnlyList<EnqueueResult>[] results = await Task.WhenAll(stores.Select(store =>
                Task.Run(async () => await store.EnqueueAsync([first.Insert(uniqueKey: "only-once")], Ct), Ct)));

            Assert.Single(results.SelectMany(r => r).Select(r => r.TaskId).Distinct());
            Assert.Equal(1, results.SelectMany(r => r).Count(r => r.Created));
        }
    }
}
