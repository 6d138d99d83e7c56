namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>
/// Where <see cref="SqliteSagaStore"/> keeps its sagas, how durable each commit is and how long it waits for a busy
/// file. Set exactly one of <see cref="DataSource"/> and <see cref="ConnectionString"/>;
/// <see cref="SqliteSagaStoreOptionsValidator"/> checks them.
/// </summary>
public sealed class SqliteSagaStoreOptions
{
    /// <summary>
    /// The path of the database file, for example <c>sagas.db</c> or <c>/var/lib/myapp/sagas.db</c> (relative paths are
    /// resolved against the current directory when the store is created). The file and its directory are created when
    /// missing. Use a file of its own: the store refuses a database that holds other tables.
    /// </summary>
    public string? DataSource { get; set; }

    /// <summary>
    /// A full Microsoft.Data.Sqlite connection string instead of <see cref="DataSource"/> (for example to pass a
    /// <c>Vfs</c> or a <c>Password</c> with an encrypting SQLite build). Its data source must name a file, it must allow
    /// writes, and the store opens its own unpooled connections whatever <c>Pooling</c> says.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How hard each commit is pushed to the disk. Default <see cref="SqliteSagaSynchronous.Full"/>: a write that
    /// returned survives a power loss. <see cref="SqliteSagaSynchronous.Normal"/> skips the fsync per commit and survives
    /// a process crash only.
    /// </summary>
    public SqliteSagaSynchronous Synchronous { get; set; } = SqliteSagaSynchronous.Full;

    /// <summary>
    /// How long an operation waits while another connection or process holds the write lock before it gives up with an
    /// <see cref="InvalidOperationException"/> (nothing written). Default 30 seconds.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most queued writes (creates, checkpoints, acquisitions, renewals, releases, transitions) one transaction
    /// commits together, so a long queue cannot hold the file's write lock for long. Default 256; 1 turns group commit off.
    /// </summary>
    public int MaxWritesPerTransaction { get; set; } = 256;
}
