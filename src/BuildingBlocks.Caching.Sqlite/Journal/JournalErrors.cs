using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BuildingBlocks.Caching.Sqlite;

/// <summary>Turns SQLite failures into <see cref="SqliteJournalException"/>s that name the file and say what to do.</summary>
internal static class JournalErrors
{
    /// <summary>Whether a result code (primary or extended) means another connection holds a lock.</summary>
    public static bool IsBusy(int resultCode) => (resultCode & 0xFF) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED;

    /// <summary>
    /// Whether a failed statement undid only itself and left its transaction open and the connection sound, so the other
    /// operations of the transaction can still commit.
    /// </summary>
    public static bool IsStatementOnly(int resultCode) =>
        (resultCode & 0xFF) is raw.SQLITE_CONSTRAINT or raw.SQLITE_TOOBIG or raw.SQLITE_MISMATCH or raw.SQLITE_RANGE;

    /// <summary>Whether the error leaves the connection in doubt (damaged file, I/O failure), so the journal opens a new one next time.</summary>
    public static bool ClosesConnection(int resultCode) => !IsBusy(resultCode) && !IsStatementOnly(resultCode);

    /// <summary>The error of the last call on <paramref name="db"/> that returned <paramref name="resultCode"/>.</summary>
    public static SqliteException Capture(sqlite3 db, int resultCode) =>
        new(raw.sqlite3_errmsg(db).utf8_to_string() ?? $"SQLite error {resultCode}", resultCode, raw.sqlite3_extended_errcode(db));

    public static SqliteJournalException LockedTooLong(string path, TimeSpan busyTimeout, Exception? innerException) =>
        new(
            $"The write-back journal '{path}' stayed locked by another connection or process for longer than BusyTimeout ({busyTimeout}), " +
            "so the operations waiting for it were not journaled. Another process (a backup, the sqlite3 shell, a second journal on the same file) " +
            "holds a write transaction or an exclusive lock on the file; give each journal a file of its own, or raise SqliteJournalOptions.BusyTimeout.",
            innerException);

    public static SqliteJournalException Translate(Exception exception, string path, TimeSpan busyTimeout)
    {
        if (exception is SqliteJournalException journalException)
        {
            return journalException;
        }

        if (exception is not SqliteException sqliteException)
        {
            return new SqliteJournalException($"The write-back journal '{path}' failed ({exception.GetType().Name}: {exception.Message}). Nothing of the operation was journaled.", exception);
        }

        int code = sqliteException.SqliteErrorCode & 0xFF;
        string detail = $"SQLite error {sqliteException.SqliteExtendedErrorCode}: {sqliteException.Message}";
        return code switch
        {
            raw.SQLITE_BUSY or raw.SQLITE_LOCKED => LockedTooLong(path, busyTimeout, sqliteException),
            raw.SQLITE_CORRUPT or raw.SQLITE_NOTADB => new SqliteJournalException(
                $"The file '{path}' is not a SQLite database or is damaged ({detail}). Nothing was written to it. " +
                "Point SqliteJournalOptions.Path at another file, or move this one away (the writes still in it were not flushed to the store).",
                sqliteException),
            raw.SQLITE_CONSTRAINT or raw.SQLITE_TOOBIG or raw.SQLITE_MISMATCH or raw.SQLITE_RANGE => new SqliteJournalException(
                $"The write-back journal '{path}' refused the operation ({detail}); it was not journaled. The other operations of its transaction were.",
                sqliteException),
            raw.SQLITE_CANTOPEN or raw.SQLITE_READONLY or raw.SQLITE_PERM or raw.SQLITE_AUTH => new SqliteJournalException(
                $"The write-back journal '{path}' could not be opened for writing ({detail}). Check that the path is right and that this process may " +
                "read and write the file and its directory (SQLite also creates '-wal' and '-shm' files beside it). Nothing was journaled.",
                sqliteException),
            raw.SQLITE_FULL or raw.SQLITE_IOERR => new SqliteJournalException(
                $"The write-back journal '{path}' hit an I/O error ({detail}). Check the disk (space, permissions, health); the transaction was rolled back and nothing of it was journaled.",
                sqliteException),
            _ => new SqliteJournalException($"The write-back journal '{path}' failed ({detail}). The transaction was rolled back; nothing of it was journaled.", sqliteException),
        };
    }
}
