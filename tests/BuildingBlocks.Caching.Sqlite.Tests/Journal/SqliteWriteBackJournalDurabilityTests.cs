using System.Globalization;
using BuildingBlocks.Caching.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Caching.Sqlite.Tests.Journal;

/// <summary>What survives closing and reopening, and what concurrency and disposal do to appends.</summary>
public sealed class SqliteWriteBackJournalDurabilityTests : JournalTests
{
    [Fact]
    public async Task Entries_SurviveClosingAndReopeningTheFile()
    {
        await using (var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf() }))
        {
            await journal.AppendAsync(Entry("users", "a", "1", 1), Ct);
            await journal.AppendAsync(Entry("users", "b", null, 2), Ct);
            await journal.AppendAsync(Entry("orders", "a", "3", 3), Ct);
            await journal.RemoveAsync("orders", [new(Key("a"), 3)], Ct);
        }

        SqliteWriteBackJournal reopened = Open();

        Assert.Equal([("a", "1", 1L), ("b", null, 2L)], await ReadShownAsync(reopened, "users"));
        Assert.Empty(await reopened.ReadAsync("orders", Ct));
    }

    [Fact]
    public async Task AcknowledgedAppends_AreInTheFileForAnotherConnection_BeforeTheJournalIsClosed()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "1", 1), Ct);

        // Committed, not just queued: a second journal on the same file (another process after a crash) sees it.
        SqliteWriteBackJournal other = Open();
        Assert.Equal([("a", "1", 1L)], await ReadShownAsync(other, "users"));
    }

    [Fact]
    public async Task TheFile_IsAWalModeStrictJournal_WithItsVersionAndApplicationId()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "1", 1), Ct);

        SqliteConnection other = OpenConnection();
        Assert.Equal("wal", Scalar(other, "PRAGMA journal_mode;"));
        Assert.Equal((long)SqliteWriteBackJournal.SchemaVersion, Scalar(other, "PRAGMA user_version;"));
        Assert.Equal(0x4242434AL, Scalar(other, "PRAGMA application_id;"));
        Assert.Contains("STRICT", (string)Scalar(other, "SELECT sql FROM sqlite_master WHERE name = 'journal';")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentAppends_FromManyTasks_AreAllThereAfterReopening_AndShareTransactions()
    {
        const int Tasks = 64;
        const int PerTask = 200;
        SqliteWriteBackJournal journal;
        await using (journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf() }))
        {
            await Task.WhenAll(Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
            {
                for (int i = 0; i < PerTask; i++)
                {
                    long version = (t * PerTask) + i + 1;
                    await journal.AppendAsync(Entry("users", string.Create(CultureInfo.InvariantCulture, $"t{t}-{i}"), $"v{version}", version), Ct);
                }
            }, Ct)));

            Assert.Equal(Tasks * PerTask, journal.OperationCount);
            Assert.True(journal.TransactionCount < Tasks * PerTask, $"{journal.TransactionCount} transactions for {Tasks * PerTask} concurrent appends: no group commit");
        }

        IReadOnlyList<JournalEntry> entries = await Open().ReadAsync("users", Ct);
        Assert.Equal(Tasks * PerTask, entries.Count);
        Assert.Equal(Enumerable.Range(1, Tasks * PerTask).Select(v => (long)v), entries.Select(e => e.Version));
        Assert.All(entries, e => Assert.Equal($"v{e.Version}", Show(e).Value));
    }

    [Fact]
    public async Task GroupCommit_AppendsQueuedWhileATransactionWaits_CommitTogetherInTheNextOne()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "open", "x", 1), Ct);
        long before = journal.TransactionCount;

        // Another connection holds the write lock: the writer's next transaction waits in BEGIN IMMEDIATE, and everything
        // queued meanwhile must go into the one transaction after it.
        SqliteConnection other = OpenConnection();
        Execute(other, "BEGIN IMMEDIATE;");
        ValueTask[] appends = [.. Enumerable.Range(2, 100).Select(v => journal.AppendAsync(Entry("users", $"k{v}", "v", v), Ct))];
        Execute(other, "COMMIT;");
        foreach (ValueTask append in appends)
        {
            await append;
        }

        long transactions = journal.TransactionCount - before;
        Assert.InRange(transactions, 1, 2);
        Assert.Equal(101, (await journal.ReadAsync("users", Ct)).Count);
    }

    [Fact]
    public async Task Dispose_CommitsEverythingQueued_ThenRefusesNewCalls()
    {
        var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf() });
        ValueTask[] appends = [.. Enumerable.Range(1, 500).Select(v => journal.AppendAsync(Entry("users", $"k{v}", "v", v), Ct))];

        await journal.DisposeAsync();

        foreach (ValueTask append in appends)
        {
            Assert.True(append.IsCompletedSuccessfully);
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await journal.AppendAsync(Entry("users", "late", "v", 1), Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await journal.RemoveAsync("users", [new(Key("k1"), 1)], Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await journal.ReadAsync("users", Ct));
        await journal.DisposeAsync();
        journal.Dispose();

        Assert.Equal(500, (await Open().ReadAsync("users", Ct)).Count);
    }

    [Fact]
    public async Task Dispose_WithoutAnyCall_CreatesNoFile()
    {
        var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf() });

        journal.Dispose();
        await journal.DisposeAsync();

        Assert.False(File.Exists(PathOf()));
    }

    [Fact]
    public async Task Append_ThatSqliteRefusesAlone_FailsAlone_AndTheRestOfItsTransactionCommits()
    {
        SqliteWriteBackJournal journal = Open();
        journal.WriterOpened = db => SQLitePCL.raw.sqlite3_limit(db, SQLitePCL.raw.SQLITE_LIMIT_LENGTH, 10_000);
        await journal.AppendAsync(Entry("users", "open", "x", 1), Ct);

        SqliteConnection other = OpenConnection();
        Execute(other, "BEGIN IMMEDIATE;");
        ValueTask before = journal.AppendAsync(Entry("users", "before", "x", 2), Ct);
        ValueTask tooBig = journal.AppendAsync(new JournalEntry("users", Key("big"), new byte[20_000], 3), Ct);
        ValueTask after = journal.AppendAsync(Entry("users", "after", "x", 4), Ct);
        Execute(other, "COMMIT;");

        await before;
        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await tooBig);
        await after;
        Assert.Contains(PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("refused the operation", error.Message, StringComparison.Ordinal);
        Assert.Equal(["open", "before", "after"], (await ReadShownAsync(journal, "users")).Select(e => e.Key));
    }
}
