using SQLitePCL;

namespace BuildingBlocks.Caching.Sqlite;

/// <summary>
/// Transactions issued straight to SQLite, so the journal alone decides how long to wait for a lock: Microsoft.Data.Sqlite's
/// own busy retry (150 ms sleeps up to the command timeout) would stretch <see cref="SqliteJournalOptions.BusyTimeout"/>.
/// </summary>
internal static class JournalTransactions
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(50);

    /// <summary>Never set: a timed wait on it is a sleep that the banned-API rules accept on the writer thread.</summary>
    private static readonly ManualResetEventSlim Never = new(initialState: false);

    /// <summary>
    /// Takes the write lock now (<c>BEGIN IMMEDIATE</c>), so a transaction never has to upgrade a read lock later. SQLite's
    /// busy handler waits up to <c>busy_timeout</c>; if SQLITE_BUSY still comes back (it can, for example while another
    /// connection recovers the WAL), retry with a short backoff until <paramref name="busyTimeout"/> has passed in real
    /// time, then give up with a clear error.
    /// </summary>
    /// <param name="db">The connection.</param>
    /// <param name="path">The file, for the error message.</param>
    /// <param name="busyTimeout">How long to keep trying.</param>
    /// <param name="prepared">A prepared <c>BEGIN IMMEDIATE</c> (the hot path), or <see langword="null"/> to run the SQL text.</param>
    public static void BeginImmediate(sqlite3 db, string path, TimeSpan busyTimeout, sqlite3_stmt? prepared = null)
    {
        long started = TimeProvider.System.GetTimestamp();
        TimeSpan backoff = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            int rc = prepared is null ? raw.sqlite3_exec(db, "BEGIN IMMEDIATE;") : Step(prepared);
            if (rc is raw.SQLITE_OK or raw.SQLITE_DONE)
            {
                return;
            }

            if (!JournalErrors.IsBusy(rc))
            {
                throw JournalErrors.Capture(db, rc);
            }

            TimeSpan waited = TimeProvider.System.GetElapsedTime(started);
            if (waited >= busyTimeout)
            {
                throw JournalErrors.LockedTooLong(path, busyTimeout, JournalErrors.Capture(db, rc));
            }

            TimeSpan delay = backoff < busyTimeout - waited ? backoff : busyTimeout - waited;
            _ = Never.Wait(delay);
            backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
        }
    }

    /// <summary>Runs a prepared statement once and resets it; returns SQLite's result code of the step.</summary>
    public static int Step(sqlite3_stmt statement)
    {
        int rc = raw.sqlite3_step(statement);
        _ = raw.sqlite3_reset(statement);
        return rc;
    }

    /// <summary>Whether a transaction is open (SQLite rolls a transaction back by itself after some errors).</summary>
    public static bool InTransaction(sqlite3 db) => raw.sqlite3_get_autocommit(db) == 0;

    /// <summary>Rolls back the open transaction, if SQLite has not already done so; never throws.</summary>
    public static void Rollback(sqlite3 db)
    {
        if (raw.sqlite3_get_autocommit(db) == 0)
        {
            _ = raw.sqlite3_exec(db, "ROLLBACK;");
        }
    }
}
