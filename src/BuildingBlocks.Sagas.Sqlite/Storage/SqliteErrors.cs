using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>
/// Turns SQLite failures into <see cref="InvalidOperationException"/>s that name the file and say what to do; the
/// <see cref="SqliteException"/> is kept as the inner exception.
/// </summary>
internal static class SqliteErrors
{
    /// <summary>Whether a result code (primary or extended) means another connection holds a lock.</summary>
    public static bool IsBusy(int resultCode) => (resultCode & 0xFF) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED;

    /// <summary>
    /// Whether the error leaves the connection in doubt (damaged file, I/O failure), so the store closes it and opens
    /// a new one next time instead of reusing it.
    /// </summary>
    public static bool ClosesConnection(SqliteException exception) =>
        (exception.SqliteErrorCode & 0xFF) is not (raw.SQLITE_BUSY or raw.SQLITE_LOCKED or raw.SQLITE_CONSTRAINT or raw.SQLITE_TOOBIG or raw.SQLITE_RANGE or raw.SQLITE_MISMATCH);

    public static InvalidOperationException LockedTooLong(string path, TimeSpan busyTimeout, Exception? innerException) =>
        new(
            $"The SQLite saga store '{path}' stayed locked by another connection or process for longer than BusyTimeout ({busyTimeout}), " +
            "so the operation was abandoned and nothing was changed. Another process holds a long write transaction or an exclusive lock on the file; " +
            "raise SqliteSagaStoreOptions.BusyTimeout if such waits are expected.",
            innerException);

    public static InvalidOperationException Translate(SqliteException exception, string path, TimeSpan busyTimeout)
    {
        int code = exception.SqliteErrorCode & 0xFF;
        string detail = $"SQLite error {exception.SqliteExtendedErrorCode}: {exception.Message}";
        return code switch
        {
            raw.SQLITE_BUSY or raw.SQLITE_LOCKED => LockedTooLong(path, busyTimeout, exception),
            raw.SQLITE_CORRUPT or raw.SQLITE_NOTADB => new InvalidOperationException(
                $"The file '{path}' is not a SQLite database or is damaged ({detail}). Nothing was written to it. " +
                "Point SqliteSagaStoreOptions.DataSource at another file, or restore this one from a backup.",
                exception),
            raw.SQLITE_CONSTRAINT => new InvalidOperationException(
                $"The SQLite saga store '{path}' refused the write ({detail}); for table '{SqliteSagaSchema.EventsTable}' this means a history line " +
                "repeats a sequence number the saga already has. The whole call was rolled back; nothing was written.",
                exception),
            raw.SQLITE_TOOBIG or raw.SQLITE_MISMATCH or raw.SQLITE_RANGE => new InvalidOperationException(
                $"The SQLite saga store '{path}' refused the write ({detail}). The whole call was rolled back; nothing was written.",
                exception),
            raw.SQLITE_CANTOPEN or raw.SQLITE_READONLY or raw.SQLITE_PERM or raw.SQLITE_AUTH => new InvalidOperationException(
                $"The SQLite saga store '{path}' could not be opened for writing ({detail}). Check that the path is right and that this process may " +
                "read and write the file and its directory (SQLite also creates '-wal' and '-shm' files beside it). Nothing was written.",
                exception),
            raw.SQLITE_FULL or raw.SQLITE_IOERR => new InvalidOperationException(
                $"The SQLite saga store '{path}' hit an I/O error ({detail}). Check the disk (space, permissions, health); the call was rolled back.",
                exception),
            _ => new InvalidOperationException($"The SQLite saga store '{path}' failed ({detail}). The call was rolled back.", exception),
        };
    }
}
