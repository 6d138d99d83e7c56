using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql;

/// <summary>Where the PostgreSQL saga store keeps its tables and how it talks to the server.</summary>
public sealed class PostgreSqlSagaStoreOptions
{
    /// <summary>The default <see cref="Schema"/>.</summary>
    public const string DefaultSchema = "sagas";

    /// <summary>
    /// An Npgsql connection string. Set this or <see cref="DataSource"/>, not both. The store builds its own pooled
    /// <see cref="NpgsqlDataSource"/> from it (with automatic statement preparation unless the string sets
    /// <c>Max Auto Prepare</c>) and disposes it with the store.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>An <see cref="NpgsqlDataSource"/> the application owns (the store does not dispose it). Set this or <see cref="ConnectionString"/>.</summary>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>
    /// The schema that holds the tables (<c>sagas</c>, <c>saga_events</c>, <c>saga_schema_version</c>): a lower-case SQL
    /// identifier of at most 63 characters, not starting with <c>pg_</c>. It may be shared with other packages' tables.
    /// Default <see cref="DefaultSchema"/>.
    /// </summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>
    /// Creates and upgrades the tables on first use, under an advisory lock so many processes can start at once. Default
    /// <see langword="true"/>. Set <see langword="false"/> when you migrate yourself with
    /// <see cref="PostgreSqlSagaStore.GetMigrationScript"/>: the store then checks the version and refuses to run on tables
    /// that are missing or of another version.
    /// </summary>
    public bool MigrateSchema { get; set; } = true;

    /// <summary>How long one statement may run before the server cancels it. Default 30 s; between 1 s and 1 hour.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
