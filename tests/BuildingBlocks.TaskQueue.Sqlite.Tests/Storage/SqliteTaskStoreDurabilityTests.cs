using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.TaskQueue.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Storage;

public sealed class SqliteTaskStoreDurabilityTests : SqliteStoreTests
{
    [Fact]
    public async Task FirstUse_SetsWalJournalNormalSynchronousAndBusyTimeout()
    {
        SqliteTaskStore store = Files.CreateStore(Time, busyTimeout: TimeSpan.FromSeconds(7));
        var s = new TaskStoreHarness(store, Time);

        await s.EnqueueAsync();

        SqliteConnection writer = Assert.IsType<SqliteConnection>(store.WriterConnection);
        Assert.Equal("wal", SqliteTestFiles.Scalar(writer, "PRAGMA journal_mode;"));
        Assert.Equal(1L, SqliteTestFiles.Scalar(writer, "PRAGMA synchronous;")); // 1 = NORMAL
        Assert.Equal(7_000L, SqliteTestFiles.Scalar(writer, "PRAGMA busy_timeout;"));

        // WAL is a property of the file: every other connection, in any process, sees it too.
        SqliteConnection other = Files.OpenConnection();
        Assert.Equal("wal", SqliteTestFiles.Scalar(other, "PRAGMA journal_mode;"));
        Assert.Equal((long)SqliteTaskStore.SchemaVersion, SqliteTestFiles.Scalar(other, "PRAGMA user_version;"));
    }

    [Fact]
    public async Task SynchronousFull_IsAppliedToTheWriterConnection()
    {
        await using var store = new SqliteTaskStore(
            new SqliteTaskStoreOptions { DataSource = Files.PathOf(), Synchronous = SqliteSynchronous.Full }, Time);

        await new TaskStoreHarness(store, Time).EnqueueAsync();

        Assert.Equal(2L, SqliteTestFiles.Scalar(Assert.IsType<SqliteConnection>(store.WriterConnection), "PRAGMA synchronous;")); // 2 = FULL
    }

    [Fact]
    public async Task Constructor_OpensNothing_UntilTheFirstCall()
    {
        SqliteTaskStore store = Files.CreateStore(Time);

        Assert.False(File.Exists(Files.PathOf()));
        Assert.Null(store.WriterConnection);

        Assert.Empty(await store.GetStatisticsAsync(Ct));
        Assert.True(File.Exists(Files.PathOf()));
    }

    [Fact]
    public async Task FirstUse_CreatesTheMissingDirectoryOfTheFile()
    {
        string path = Path.Combine(Files.PathOf("nested"), "deeper", "tasks.db");
        await using var store = new SqliteTaskStore(new SqliteTaskStoreOptions { DataSource = path }, Time);

        long id = await new TaskStoreHarness(store, Time).EnqueueAsync();

        Assert.True(File.Exists(path));
        Assert.Equal(path, store.DatabasePath);
        Assert.NotNull(await store.GetAsync(id, Ct));
    }

    [Fact]
    public async Task Tasks_SurviveDisposingAndReopeningTheStore_InEveryState()
    {
        var before = new List<TaskSnapshot>();
        long[] ids;
        await using (SqliteTaskStore first = Files.CreateStore(Time))
        {
            var s = new TaskStoreHarness(first, Time);
            ids =
            [
                await s.EnqueueAsync(payload: [1], priority: 5, uniqueKey: "completed"),
                await s.EnqueueAsync(payload: [2], priority: 4),
                await s.EnqueueAsync(payload: [3], priority: 3),
                await s.EnqueueAsync(payload: [4], priority: 2, maxAttempts: 1),
                await s.EnqueueAsync(payload: [5], runAt: s.Now.AddHours(1)),
            ];
            IReadOnlyList<LeasedTask> claimed = await s.ClaimAsync(maxCount: 4);
            Assert.True(await first.CompleteAsync(ids[0], claimed[0].LeaseToken, Ct));
            Assert.Equal(LeaseStatus.Active, await first.HeartbeatAsync(ids[1], claimed[1].LeaseToken, TaskStoreHarness.DefaultLease, "half way", Ct));
            Assert.True(await first.FailAsync(ids[2], claimed[2].LeaseToken, new TaskFailure("boom", s.Now.AddMinutes(1)), Ct));
            Assert.True(await first.FailAsync(ids[3], claimed[3].LeaseToken, new TaskFailure("fatal", RetryAt: null), Ct));
            foreach (long id in ids)
            {
                before.Add(await s.GetAsync(id));
            }
        }

        await using SqliteTaskStore reopened = Files.CreateStore(Time);
        var r = new TaskStoreHarness(reopened, Time);

        for (int i = 0; i < ids.Length; i++)
        {
            TaskStoreHarness.AssertSameSnapshot(before[i], await r.GetAsync(ids[i]));
        }

        Assert.Equal(new EnqueueResult(ids[0], Created: false), Assert.Single(await reopened.EnqueueAsync([r.Insert(uniqueKey: "completed")], Ct)));
        Assert.True(await r.EnqueueAsync() > ids[^1]);
        Assert.True(await reopened.CompleteAsync(ids[1], before[1].LeaseToken, Ct), "A lease taken before the restart is still valid with its token.");
    }

    [Fact]
    public async Task Ids_AreNeverReused_WhenTheNewestTaskWasPrunedBeforeARestart()
    {
        long newest;
        await using (SqliteTaskStore first = Files.CreateStore(Time))
        {
            var s = new TaskStoreHarness(first, Time);
            LeasedTask task = await s.EnqueueAndClaimAsync();
            newest = task.Id;
            Assert.True(await first.CompleteAsync(task.Id, task.LeaseToken, Ct));
            s.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await first.PruneAsync(s.Now, s.Now, Ct));
            Assert.Empty(await s.ListAsync());
        }

        await using SqliteTaskStore reopened = Files.CreateStore(Time);

        Assert.True(await new TaskStoreHarness(reopened, Time).EnqueueAsync() > newest);
    }

    [Fact]
    public async Task Reopening_ATaskStoreWithADroppedIndex_RecreatesTheIndex_AndKeepsTheTasks()
    {
        long id;
        await using (SqliteTaskStore first = Files.CreateStore(Time))
        {
            id = await new TaskStoreHarness(first, Time).EnqueueAsync();
        }

        using (SqliteConnection other = Files.OpenConnection())
        {
            SqliteTestFiles.Execute(other, "DROP INDEX ix_tasks_claim;");
        }

        await using SqliteTaskStore reopened = Files.CreateStore(Time);
        LeasedTask claimed = await new TaskStoreHarness(reopened, Time).ClaimOneAsync();

        Assert.Equal(id, claimed.Id);
        SqliteConnection check = Files.OpenConnection();
        Assert.Equal(1L, SqliteTestFiles.Scalar(check, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_tasks_claim';"));
    }

    [Fact]
    public async Task Reads_DoNotWaitForAnotherConnectionsWriteTransaction_AndSeeOnlyCommittedData()
    {
        SqliteTaskStore store = Files.CreateStore(Time, busyTimeout: TimeSpan.FromMilliseconds(200));
        var s = new TaskStoreHarness(store, Time);
        long id = await s.EnqueueAsync(priority: 1);
        SqliteConnection writer = Files.OpenConnection();
        SqliteTestFiles.Execute(writer, "BEGIN IMMEDIATE; UPDATE tasks SET priority = 99 WHERE id = " + id + ";");

        // Each read would fail after the 200 ms busy timeout if it queued behind the writer.
        Assert.Equal(1, (await s.GetAsync(id)).Priority);
        Assert.Equal(1, Assert.Single(await s.ListAsync()).Priority);
        Assert.Equal(1, Assert.Single(await store.GetStatisticsAsync(Ct)).Ready);

        SqliteTestFiles.Execute(writer, "COMMIT;");
        Assert.Equal(99, (await s.GetAsync(id)).Priority);
    }

    [Fact]
    public async Task Dispose_ThenAnyCall_ThrowsObjectDisposedException()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        await s.EnqueueAsync();

        await store.DisposeAsync();
        store.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.EnqueueAsync([s.Insert()], Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetAsync(1, Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.ClaimAsync(new ClaimRequest("orders", "w", 1, TaskStoreHarness.DefaultLease), Ct));
    }
}
