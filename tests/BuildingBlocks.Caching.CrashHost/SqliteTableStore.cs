using BuildingBlocks.Caching;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Caching.CrashHost;

/// <summary>
/// The backing store of the crash tests: table <c>items</c> (key INTEGER PRIMARY KEY, value TEXT, applied = how many
/// times a save reached the row) in a SQLite file of its own, and table <c>applied_writes</c> that records every save
/// of every (key, value), so the test can tell how many times each write was applied. Saves are idempotent upserts.
/// </summary>
internal sealed class SqliteTableStore : IBackingStore<int, string>
{
    public const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS items (key INTEGER PRIMARY KEY, value TEXT NOT NULL, applied INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS applied_writes (id INTEGER PRIMARY KEY AUTOINCREMENT, key INTEGER NOT NULL, value TEXT NOT NULL);
        """;

    private readonly string _connectionString;

    public SqliteTableStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            DefaultTimeout = 30,
        }.ToString();
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = Schema;
        command.ExecuteNonQuery();
    }

    public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM items WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return ValueTask.FromResult(command.ExecuteScalar() is string value ? LoadResult<string>.Found(value) : LoadResult<string>.NotFound);
    }

    public async ValueTask<IReadOnlyDictionary<int, string>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        var result = new Dictionary<int, string>();
        foreach (int key in keys)
        {
            LoadResult<string> loaded = await LoadAsync(key, cancellationToken);
            if (loaded.HasValue)
            {
                result[key] = loaded.Value;
            }
        }

        return result;
    }

    public ValueTask SaveAsync(IReadOnlyList<KeyValuePair<int, string>> entries, CancellationToken cancellationToken)
    {
        using SqliteConnection connection = Open();
        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO items (key, value, applied) VALUES ($key, $value, 1)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, applied = items.applied + 1;
            INSERT INTO applied_writes (key, value) VALUES ($key, $value);
            """;
        SqliteParameter key = upsert.Parameters.Add("$key", SqliteType.Integer);
        SqliteParameter value = upsert.Parameters.Add("$value", SqliteType.Text);
        foreach ((int k, string v) in entries)
        {
            key.Value = k;
            value.Value = v;
            upsert.ExecuteNonQuery();
        }

        transaction.Commit();
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(IReadOnlyList<int> keys, CancellationToken cancellationToken)
    {
        using SqliteConnection connection = Open();
        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM items WHERE key = $key";
        SqliteParameter key = delete.Parameters.Add("$key", SqliteType.Integer);
        foreach (int k in keys)
        {
            key.Value = k;
            delete.ExecuteNonQuery();
        }

        transaction.Commit();
        return ValueTask.CompletedTask;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
