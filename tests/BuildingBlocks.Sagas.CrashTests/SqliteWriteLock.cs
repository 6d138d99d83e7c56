using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>Whether some process holds a SQLite file's write lock (a write transaction is open on it).</summary>
internal static class SqliteWriteLock
{
    /// <summary>
    /// Tries to begin a write transaction for up to a second (SQLite retries while busy): a frozen process holding the
    /// lock keeps it all that time, a running one lets go within milliseconds.
    /// </summary>
    public static bool IsHeld(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 1 }.ToString());
        connection.Open();
        try
        {
            using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
            transaction.Rollback();
            return false;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)
        {
            // SQLITE_BUSY / SQLITE_LOCKED for the whole second.
            return true;
        }
    }
}
