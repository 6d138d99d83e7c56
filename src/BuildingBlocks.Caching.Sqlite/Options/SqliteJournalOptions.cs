namespace BuildingBlocks.Caching.Sqlite;

/// <summary>
/// Where <see cref="SqliteWriteBackJournal"/> keeps its file and how long it waits for a busy one;
/// <see cref="SqliteJournalOptionsValidator"/> checks them.
/// </summary>
public sealed class SqliteJournalOptions
{
    /// <summary>
    /// Required. The path of the journal file, for example <c>cache-journal.db</c> or <c>/var/lib/myapp/cache-journal.db</c>
    /// (a relative path is resolved against the current directory when the journal is created). The file and its
    /// directory are created when missing. Give the journal a file of its own: it refuses a database that holds anything
    /// else. SQLite keeps <c>-wal</c> and <c>-shm</c> files beside it.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// How long a transaction waits while another connection or process holds the file's write lock before the
    /// operations in it fail with a <see cref="SqliteJournalException"/>. Default 30 seconds. One journal per file is the
    /// normal case, so the wait only matters while a tool (a backup, the <c>sqlite3</c> shell) holds the file.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
