using Npgsql;

namespace BuildingBlocks.TaskQueue.PostgreSql;

/// <summary>Where the PostgreSQL task store keeps its tables and how it talks to the server.</summary>
public sealed class PostgreSqlTaskStoreOptions
{
    /// <summary>The default <see cref="Schema"/>.</summary>
    public const string DefaultSchema = "taskqueue";

    /// <summary>
    /// An Npgsql connection string. Set this or <see cref="DataSource"/>, not both. The store builds its own
    /// <see cref="NpgsqlDataSource"/> from it and disposes it with the store.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>An <see cref="NpgsqlDataSource"/> the application owns (the store does not dispose it). Set this or <see cref="ConnectionString"/>.</summary>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>
    /// The schema that holds the tables (<c>tasks</c>, <c>schema_version</c>): a lower-case SQL identifier of at most 63
    /// characters. Give each queue that must be separate its own schema. Default <see cref="DefaultSchema"/>.
    /// </summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>
    /// Creates and upgrades the schema on first use (and at host start), under an advisory lock so many processes can
    /// start at once. Default <see langword="true"/>. Set <see langword="false"/> when you migrate yourself with
    /// <see cref="PostgreSqlTaskStore.GetMigrationScript"/>: the store then checks the version and refuses to run on a
    /// schema that is missing or of another version.
    /// </summary>
    public bool MigrateSchema { get; set; } = true;

    /// <summary>
    /// Whether the workers' writes after a claim (heartbeats, completions, failures, releases, sweeps) wait for the WAL
    /// flush. Default <see langword="false"/>: they commit with <c>synchronous_commit = off</c>, which removes an fsync
    /// from every task's path. A server crash can then forget the last moments of those writes (up to three times
    /// <c>wal_writer_delay</c>, 0.6 s by default); the only effect is that those tasks run again after their lease
    /// expires, as at-least-once delivery already allows. Claims always wait for the flush, so a lease token is never
    /// handed out twice, and so do enqueues, cancels and redrives: nothing acknowledged to a producer is lost. Set
    /// <see langword="true"/> to wait on every write.
    /// </summary>
    public bool SynchronousWorkerCommits { get; set; }

    /// <summary>How long one statement may run before the server cancels it. Default 30 s; between 1 s and 1 hour.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The first wait before the LISTEN connection reconnects after it was lost; it doubles up to 30 s while the server
    /// stays away. Workers poll meanwhile, so nothing is missed, only picked up later. Default 1 s; between 10 ms and 5 min.
    /// </summary>
    public TimeSpan ListenerReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);
}
