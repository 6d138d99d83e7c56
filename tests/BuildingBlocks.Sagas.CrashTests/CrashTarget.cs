using BuildingBlocks.Sagas.PostgreSql;
using BuildingBlocks.Sagas.Sqlite;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>The store the crash host runs on (its command-line arguments) and the test's own connection to it.</summary>
internal sealed class CrashTarget : IAsyncDisposable
{
    private CrashTarget(string name, string[] hostArguments, ISagaStore store, string[] sqliteFiles)
    {
        Name = name;
        HostArguments = hostArguments;
        Store = store;
        SqliteFiles = sqliteFiles;
    }

    public string Name { get; }

    public IReadOnlyList<string> HostArguments { get; }

    /// <summary>The test's own store instance on the same database, for reading what the children left.</summary>
    public ISagaStore Store { get; }

    /// <summary>The store's SQLite file, if it is one.</summary>
    public IReadOnlyList<string> SqliteFiles { get; }

    public static CrashTarget Sqlite(string path) =>
        new("SQLite", ["--db", path], new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = path }), [path]);

    public static async Task<CrashTarget> PostgreSqlAsync(string connectionString, string schema, CancellationToken cancellationToken)
    {
        var store = new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { ConnectionString = connectionString, Schema = schema });
        await store.InitializeAsync(cancellationToken);
        return new CrashTarget("PostgreSQL", ["--store", "postgres", "--connection-string", connectionString, "--schema", schema], store, []);
    }

    public ValueTask DisposeAsync() => Store is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}
