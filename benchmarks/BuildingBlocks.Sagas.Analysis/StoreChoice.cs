using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Sagas.Analysis;

/// <summary>Which store a run uses: a fresh SQLite file (durable commits) or a fresh database on a throwaway local PostgreSQL.</summary>
internal sealed class StoreChoice : IAsyncDisposable
{
    private readonly PostgreSqlServer? _server;
    private readonly string _directory;

    private StoreChoice(string kind, string directory, PostgreSqlServer? server)
    {
        Kind = kind;
        _directory = directory;
        _server = server;
    }

    public string Kind { get; }

    public static async Task<StoreChoice> CreateAsync(string kind)
    {
        string directory = Path.Combine(Path.GetTempPath(), "bb-sagas-analysis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        PostgreSqlServer? server = kind == "postgres" ? await PostgreSqlServer.StartAsync().ConfigureAwait(false) : null;
        return new StoreChoice(kind, directory, server);
    }

    /// <summary>A new, empty store for one measurement.</summary>
    public async Task<Action<ISagasBuilder>> NewStoreAsync()
    {
        switch (Kind)
        {
            case "sqlite":
                string file = Path.Combine(_directory, Guid.NewGuid().ToString("N")[..8] + ".db");
                return builder => builder.UseSqlite(file);
            case "postgres":
                string connectionString = await _server!.CreateDatabaseAsync().ConfigureAwait(false);
                return builder => builder.UsePostgreSql(connectionString);
            default:
                InMemorySagaStore store = new();
                return builder => builder.Services.AddSingleton<ISagaStore>(store);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow disk; the temp directory is cleaned by the system.
        }
    }
}
