namespace BuildingBlocks.TaskQueue.Sqlite;

/// <summary>
/// Where <see cref="SqliteTaskStore"/> keeps its tasks and how long it waits for a busy file. Set exactly one of
/// <see cref="DataSource"/> and <see cref="ConnectionString"/>; <see cref="SqliteTaskStoreOptionsValidator"/> checks them.
/// </summary>
public sealed class SqliteTaskStoreOptions
{
    /// <summary>
    /// The path of the database file, for example <c>tasks.db</c> or <c>/var/lib/myapp/tasks.db</c> (relative paths are
    /// resolved against the current directory). The file and its directory are created when missing. Use a file of its
    /// own: the store refuses a database that holds other tables.
    /// </summary>
    public string? DataSource { get; set; }

    /// <summary>
    /// A full Microsoft.Data.Sqlite connection string instead of <see cref="DataSource"/> (for example to pass a
    /// <c>Vfs</c> or a <c>Password</c> with an encrypting SQLite build). Its data source must name a file, it must allow
    /// writes, and the store opens its own unpooled connections whatever <c>Pooling</c> says.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long an operation waits while another connection or process holds the write lock before it gives up with a
    /// <see cref="TaskStoreException"/>. Default 30 seconds.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How hard each commit is pushed to the disk. Default <see cref="SqliteSynchronous.Normal"/>: survives a process
    /// crash, may lose the last commits on a power loss. <see cref="SqliteSynchronous.Full"/> survives a power loss too,
    /// with one fsync per write.
    /// </summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;
}
