using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BuildingBlocks.Sqlite;

/// <summary>
/// Transactions issued straight to SQLite, so the store alone decides how long to wait for a lock: Microsoft.Data.Sqlite's
/// own busy retry (150 ms sleeps up to the command timeout) would stretch the store's BusyTimeout option.
/// Compiled into every SQLite package (linked from eng/SharedSource), so the packages share one implementation without
/// a shared assembly. Each package provides an internal <c>SqliteErrors</c> (IsBusy, LockedTooLong) in a namespace its
/// project imports globally, so errors keep the package's own exception type.
/// </summary>
internal static class SqliteTransactions
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Takes the write lock now (<c>BEGIN IMMEDIATE</c>), so a transaction never has to upgrade a read lock later, which is
    /// what deadlocks two writers. SQLite's busy handler waits up to <c>busy_timeout</c>; if SQLITE_BUSY still comes back
    /// (it can, for example while another connection recovers the WAL), retry with a short backoff until
    /// <paramref name="busyTimeout"/> has passed in real time, then give up with a clear error.
    /// </summary>
    public static async ValueTask BeginImmediateAsync(SqliteConnection connection, string path, TimeSpan busyTimeout, CancellationToken cancellationToken)
    {
        // Lock waits happen in real time (SQLite sleeps in real time), whatever clock the store uses for its own times.
        TimeProvider wallClock = TimeProvider.System;
        long started = wallClock.GetTimestamp();
        TimeSpan backoff = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            int rc = raw.sqlite3_exec(connection.Handle, "BEGIN IMMEDIATE;");
            if (rc == raw.SQLITE_OK)
            {
                return;
            }

            if (!SqliteErrors.IsBusy(rc))
            {
                SqliteException.ThrowExceptionForRC(rc, connection.Handle);
            }

            TimeSpan waited = wallClock.GetElapsedTime(started);
            if (waited >= busyTimeout)
            {
                throw SqliteErrors.LockedTooLong(path, busyTimeout, new SqliteException("BEGIN IMMEDIATE: database is locked", rc));
            }

            TimeSpan delay = backoff < busyTimeout - waited ? backoff : busyTimeout - waited;
            await Task.Delay(delay, wallClock, cancellationToken).ConfigureAwait(false);
            backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
        }
    }

    /// <summary>Starts a read transaction, so several queries see one snapshot.</summary>
    public static void BeginRead(SqliteConnection connection) => Execute(connection, "BEGIN;");

    public static void Commit(SqliteConnection connection) => Execute(connection, "COMMIT;");

    /// <summary>Whether a transaction is open (SQLite rolls a transaction back by itself after some errors).</summary>
    public static bool InTransaction(SqliteConnection connection) =>
        connection.Handle is { } handle && raw.sqlite3_get_autocommit(handle) == 0;

    /// <summary>Marks where one write of a group commit starts.</summary>
    public static void Savepoint(SqliteConnection connection) => Execute(connection, "SAVEPOINT write;");

    /// <summary>Keeps the write since <see cref="Savepoint"/> in the transaction.</summary>
    public static void ReleaseSavepoint(SqliteConnection connection) => Execute(connection, "RELEASE write;");

    /// <summary>Undoes the write since <see cref="Savepoint"/> and leaves the rest of the transaction as it was.</summary>
    public static void RollbackToSavepoint(SqliteConnection connection) => Execute(connection, "ROLLBACK TO write; RELEASE write;");

    /// <summary>Rolls back the open transaction, if SQLite has not already done so; never throws.</summary>
    public static void RollbackQuietly(SqliteConnection connection)
    {
        sqlite3? handle = connection.Handle;
        if (handle is not null && raw.sqlite3_get_autocommit(handle) == 0)
        {
            _ = raw.sqlite3_exec(handle, "ROLLBACK;");
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        int rc = raw.sqlite3_exec(connection.Handle, sql);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
    }
}
