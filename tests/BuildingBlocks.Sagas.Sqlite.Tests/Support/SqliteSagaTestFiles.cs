using BuildingBlocks.Testing;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Support;

/// <summary>
/// A temp directory with saga store files in it: creates stores and plain SQLite connections (the "other process"
/// a test needs), and disposes everything it created, stores first.
/// </summary>
public sealed class SqliteSagaTestFiles : IAsyncDisposable
{
    private readonly TempDirectory _directory = new("bb-sagas-sqlite");
    private readonly List<IAsyncDisposable> _owned = [];

    public string PathOf(string name = "sagas.db") => _directory.File(name);

    public SqliteSagaStore CreateStore(TimeProvider time, string name = "sagas.db", Action<SqliteSagaStoreOptions>? configure = null)
    {
        var options = new SqliteSagaStoreOptions { DataSource = PathOf(name), BusyTimeout = TimeSpan.FromSeconds(30) };
        configure?.Invoke(options);
        var store = new SqliteSagaStore(options, time);
        _owned.Add(store);
        return store;
    }

    /// <summary>A plain connection to a file, as another program or process would open it (no pooling, so it really closes).</summary>
    public SqliteConnection OpenConnection(string name = "sagas.db")
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = PathOf(name), Pooling = false }.ToString());
        connection.Open();
        _owned.Add(connection);
        return connection;
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public static int Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _directory.Dispose();
    }
}
