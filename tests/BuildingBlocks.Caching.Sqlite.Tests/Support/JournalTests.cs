using System.Text;
using BuildingBlocks.Testing;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Caching.Sqlite.Tests.Support;

/// <summary>
/// What every journal test needs: a temp directory of journal files, journals and plain SQLite connections (the "other
/// program" a test needs) that are disposed after the test, journals first, and small helpers to build entries.
/// </summary>
public abstract class JournalTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("bb-journal");
    private readonly List<IAsyncDisposable> _owned = [];

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public string PathOf(string name = "journal.db") => _directory.File(name);

    protected SqliteWriteBackJournal Open(string name = "journal.db", TimeSpan? busyTimeout = null)
    {
        var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = PathOf(name), BusyTimeout = busyTimeout ?? TimeSpan.FromSeconds(30) });
        _owned.Add(journal);
        return journal;
    }

    /// <summary>A plain connection to a file, as another program would open it (no pooling, so it really closes).</summary>
    protected SqliteConnection OpenConnection(string name = "journal.db")
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = PathOf(name), Pooling = false }.ToString());
        connection.Open();
        _owned.Add(connection);
        return connection;
    }

    protected static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    protected static int Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    /// <summary>A key as the cache writes it: UTF-8 JSON.</summary>
    protected static byte[] Key(string key) => Encoding.UTF8.GetBytes($"\"{key}\"");

    protected static byte[] Value(string value) => Encoding.UTF8.GetBytes($"\"{value}\"");

    protected static JournalEntry Entry(string cache, string key, string? value, long version) =>
        new(cache, Key(key), value is null ? null : Value(value), version);

    /// <summary>An entry as (key, value, version) text, for readable assertions.</summary>
    protected static (string Key, string? Value, long Version) Show(JournalEntry entry) =>
        (Encoding.UTF8.GetString(entry.Key).Trim('"'), entry.Value is null ? null : Encoding.UTF8.GetString(entry.Value).Trim('"'), entry.Version);

    protected static async Task<(string Key, string? Value, long Version)[]> ReadShownAsync(SqliteWriteBackJournal journal, string cache) =>
        [.. (await journal.ReadAsync(cache, Ct)).Select(Show)];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _directory.Dispose();
        GC.SuppressFinalize(this);
    }
}
