namespace BuildingBlocks.TaskQueue.Sqlite;

/// <summary>How hard SQLite pushes each commit to the disk (<c>PRAGMA synchronous</c>); the numbers are SQLite's.</summary>
public enum SqliteSynchronous
{
    /// <summary>
    /// The default. In WAL mode a commit survives a crash of the process at once and a power loss or OS crash from the
    /// next checkpoint on; the last commits before a power loss can be lost, but the file is never damaged. No fsync per
    /// commit, which is what makes single enqueues and completions fast.
    /// </summary>
    Normal = 1,

    /// <summary>Every commit is fsynced before the call returns: it survives a power loss too, at the cost of one fsync per write.</summary>
    Full = 2,
}
