namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>How hard SQLite pushes each commit to the disk (<c>PRAGMA synchronous</c>); the numbers are SQLite's.</summary>
public enum SqliteSagaSynchronous
{
    /// <summary>
    /// A commit survives a crash of the process at once, and a power loss or OS crash from the next WAL checkpoint on:
    /// the last commits before a power loss can be lost (a saga then resumes from an earlier checkpoint and repeats steps,
    /// which its idempotency keys make safe), but the file is never damaged. No fsync per commit.
    /// </summary>
    Normal = 1,

    /// <summary>
    /// The default. Every commit is fsynced before the call returns, so a checkpoint that returned survives a power loss
    /// too. Group commit shares one fsync among every write that arrives while the previous one is in progress.
    /// </summary>
    Full = 2,
}
