using BuildingBlocks.Caching.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace BuildingBlocks.Caching.Sqlite.Tests.Journal;

/// <summary>Files the journal did not write, or cannot understand: refused with a clear error naming the file, never changed.</summary>
public sealed class SqliteWriteBackJournalForeignFileTests : JournalTests
{
    [Fact]
    public async Task EveryCall_OnAFileThatIsNotASqliteDatabase_ThrowsNamingThePath_AndLeavesItsBytesUnchanged()
    {
        byte[] garbage = [.. Enumerable.Range(0, 8192).Select(i => (byte)((i * 7919) % 251))];
        await File.WriteAllBytesAsync(PathOf(), garbage, Ct);
        SqliteWriteBackJournal journal = Open();

        List<SqliteJournalException> errors =
        [
            await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.AppendAsync(Entry("users", "a", "1", 1), Ct)),
            await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.RemoveAsync("users", [new(Key("a"), 1)], Ct)),
            await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.ReadAsync("users", Ct)),
        ];

        Assert.All(errors, e =>
        {
            Assert.Contains(PathOf(), e.Message, StringComparison.Ordinal);
            Assert.Contains("not a SQLite database", e.Message, StringComparison.Ordinal);
        });
        await journal.DisposeAsync();
        Assert.Equal(garbage, await File.ReadAllBytesAsync(PathOf(), Ct));
        Assert.False(File.Exists(PathOf() + "-wal"));
    }

    [Fact]
    public async Task FirstUse_JournalWithANewerSchemaVersion_IsRefusedWithAClearMessage_AndLeftUnchanged()
    {
        await using (var writer = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf() }))
        {
            await writer.AppendAsync(Entry("users", "a", "1", 1), Ct);
        }

        int newer = SqliteWriteBackJournal.SchemaVersion + 1;
        using (SqliteConnection other = OpenConnection())
        {
            Execute(other, $"PRAGMA user_version = {newer};");
        }

        byte[] before = await File.ReadAllBytesAsync(PathOf(), Ct);
        SqliteWriteBackJournal journal = Open();

        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.ReadAsync("users", Ct));

        Assert.Contains(PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"newer than this version of BuildingBlocks.Caching.Sqlite supports ({SqliteWriteBackJournal.SchemaVersion})", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.AppendAsync(Entry("users", "b", "2", 2), Ct));
        await journal.DisposeAsync();
        Assert.Equal(before, await File.ReadAllBytesAsync(PathOf(), Ct));
    }

    [Fact]
    public async Task FirstUse_DatabaseOfAnotherProgram_IsRefusedNamingItsTables_AndLeftUnchanged()
    {
        using (SqliteConnection other = OpenConnection())
        {
            Execute(other, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada');");
        }

        byte[] before = await File.ReadAllBytesAsync(PathOf(), Ct);
        SqliteWriteBackJournal journal = Open();

        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.AppendAsync(Entry("users", "a", "1", 1), Ct));

        Assert.Contains(PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("not a write-back journal", error.Message, StringComparison.Ordinal);
        Assert.Contains("table 'customers'", error.Message, StringComparison.Ordinal);
        await journal.DisposeAsync();
        Assert.Equal(before, await File.ReadAllBytesAsync(PathOf(), Ct));
        Assert.Equal("delete", Scalar(OpenConnection(), "PRAGMA journal_mode;"));
    }

    [Fact]
    public async Task FirstUse_DatabaseWithAUserVersionButNotTheJournalsMarks_IsRefused_AndLeftUnchanged()
    {
        // For example a BuildingBlocks task store file: schema version 1 too, but no journal application_id.
        using (SqliteConnection other = OpenConnection())
        {
            Execute(other, "CREATE TABLE tasks (id INTEGER PRIMARY KEY); PRAGMA user_version = 1;");
        }

        byte[] before = await File.ReadAllBytesAsync(PathOf(), Ct);
        SqliteWriteBackJournal journal = Open();

        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.ReadAsync("users", Ct));

        Assert.Contains(PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("not the journal's application_id", error.Message, StringComparison.Ordinal);
        await journal.DisposeAsync();
        Assert.Equal(before, await File.ReadAllBytesAsync(PathOf(), Ct));
    }

    [Fact]
    public async Task FirstUse_EmptyDatabaseOfAnotherApplication_IsRefused_AndLeftUnchanged()
    {
        using (SqliteConnection other = OpenConnection())
        {
            Execute(other, "PRAGMA application_id = 1234;");
        }

        byte[] before = await File.ReadAllBytesAsync(PathOf(), Ct);
        SqliteWriteBackJournal journal = Open();

        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.AppendAsync(Entry("users", "a", "1", 1), Ct));

        Assert.Contains("application_id is 1234", error.Message, StringComparison.Ordinal);
        await journal.DisposeAsync();
        Assert.Equal(before, await File.ReadAllBytesAsync(PathOf(), Ct));
    }

    [Fact]
    public async Task FirstUse_JournalWhoseTableLostAColumn_IsRefusedNamingIt()
    {
        await using (var writer = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf() }))
        {
            await writer.AppendAsync(Entry("users", "a", "1", 1), Ct);
        }

        using (SqliteConnection other = OpenConnection())
        {
            Execute(other, "DROP TABLE journal; CREATE TABLE journal (cache_name TEXT, key BLOB, version INTEGER);");
        }

        SqliteWriteBackJournal journal = Open();

        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.ReadAsync("users", Ct));

        Assert.Contains("missing columns: value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyFile_BecomesAJournal()
    {
        await File.WriteAllBytesAsync(PathOf(), [], Ct);
        SqliteWriteBackJournal journal = Open();

        await journal.AppendAsync(Entry("users", "a", "1", 1), Ct);

        Assert.Single(await journal.ReadAsync("users", Ct));
    }

    [Fact]
    public async Task TwoJournalsOpeningOneNewFileAtOnce_BothAcceptIt()
    {
        SqliteWriteBackJournal first = Open();
        SqliteWriteBackJournal second = Open();

        await Task.WhenAll(
            first.AppendAsync(Entry("users", "a", "1", 1), Ct).AsTask(),
            second.AppendAsync(Entry("users", "b", "2", 2), Ct).AsTask());

        Assert.Equal(["a", "b"], (await ReadShownAsync(first, "users")).Select(e => e.Key));
    }

    [Fact]
    public async Task AFileLockedLongerThanBusyTimeout_FailsTheWaitingAppendsNamingTheFile_AndTheJournalRecovers()
    {
        SqliteWriteBackJournal journal = Open(busyTimeout: TimeSpan.FromMilliseconds(200));
        await journal.AppendAsync(Entry("users", "open", "x", 1), Ct);
        SqliteConnection other = OpenConnection();
        Execute(other, "BEGIN IMMEDIATE;");

        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.AppendAsync(Entry("users", "a", "1", 2), Ct));
        Execute(other, "COMMIT;");

        Assert.Contains(PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("stayed locked", error.Message, StringComparison.Ordinal);
        await journal.AppendAsync(Entry("users", "b", "2", 3), Ct);
        Assert.Equal(["open", "b"], (await ReadShownAsync(journal, "users")).Select(e => e.Key));
    }

    [Fact]
    public async Task AFileThatCannotBeOpened_IsLoggedAsEvent3201_WithTheError()
    {
        await File.WriteAllBytesAsync(PathOf(), [.. Enumerable.Repeat((byte)7, 4096)], Ct);
        var logs = new FakeLogCollector();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(logging => logging.AddProvider(new FakeLoggerProvider(logs)));
        await using var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf() }, loggerFactory);

        SqliteJournalException error = await Assert.ThrowsAsync<SqliteJournalException>(async () => await journal.AppendAsync(Entry("users", "a", "1", 1), Ct));

        FakeLogRecord record = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3201);
        Assert.Equal(("JournalOpenFailed", LogLevel.Error), (record.Id.Name, record.Level));
        Assert.Same(error, record.Exception);
        Assert.Equal($"Write-back journal '{PathOf()}' could not be opened; the 1 operations waiting for it failed and the next ones try again.", record.Message);
    }
}
