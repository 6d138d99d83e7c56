using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BuildingBlocks.Caching.Sqlite;

/// <summary>
/// The journal's one writer connection and its prepared statements, driven through SQLitePCL's raw API so an append
/// allocates nothing: parameters are bound from the caller's arrays and the statement is stepped and reset. Not
/// thread-safe: only the writer thread of <see cref="SqliteWriteBackJournal"/> uses it.
/// </summary>
internal sealed class JournalWriter : IDisposable
{
    /// <summary>How many cache names keep their UTF-8 bytes; a journal normally serves a handful of caches.</summary>
    private const int MaxCachedNames = 256;

    private readonly sqlite3_stmt _begin;
    private readonly sqlite3_stmt _commit;
    private readonly sqlite3_stmt _upsert;
    private readonly sqlite3_stmt _delete;
    private readonly Dictionary<string, byte[]> _names = new(StringComparer.Ordinal);
    private string? _lastName;
    private byte[] _lastNameUtf8 = [];

    public JournalWriter(SqliteConnection connection)
    {
        Connection = connection;
        Db = connection.Handle!;
        _begin = Prepare("BEGIN IMMEDIATE;");
        _commit = Prepare("COMMIT;");

        // Keeps the row with the higher version: a late append of an older write never replaces a newer one.
        _upsert = Prepare(
            """
            INSERT INTO journal (cache_name, key, value, version) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (cache_name, key) DO UPDATE SET value = excluded.value, version = excluded.version
            WHERE excluded.version > journal.version;
            """);

        // Only up to the flushed version: a newer write of the key journaled meanwhile stays.
        _delete = Prepare("DELETE FROM journal WHERE cache_name = ?1 AND key = ?2 AND version <= ?3;");
    }

    public SqliteConnection Connection { get; }

    public sqlite3 Db { get; }

    public void Begin(string path, TimeSpan busyTimeout) => JournalTransactions.BeginImmediate(Db, path, busyTimeout, _begin);

    /// <summary>Commits; returns SQLite's result code (<c>SQLITE_DONE</c> on success).</summary>
    public int Commit() => JournalTransactions.Step(_commit);

    /// <summary>Upserts one entry; returns SQLite's result code (<c>SQLITE_DONE</c> on success).</summary>
    public int Append(JournalEntry entry)
    {
        int rc = BindName(_upsert, entry.CacheName);
        if (rc == raw.SQLITE_OK)
        {
            rc = BindBlob(_upsert, 2, entry.Key);
        }

        if (rc == raw.SQLITE_OK)
        {
            rc = entry.Value is null ? raw.sqlite3_bind_null(_upsert, 3) : BindBlob(_upsert, 3, entry.Value);
        }

        if (rc == raw.SQLITE_OK)
        {
            rc = raw.sqlite3_bind_int64(_upsert, 4, entry.Version);
        }

        return rc == raw.SQLITE_OK ? JournalTransactions.Step(_upsert) : rc;
    }

    /// <summary>Deletes the flushed keys' rows whose version is not newer; returns the first failing result code, or <c>SQLITE_DONE</c>.</summary>
    public int Remove(string cacheName, JournalKeyVersion[] flushed)
    {
        int rc = BindName(_delete, cacheName);
        if (rc != raw.SQLITE_OK)
        {
            return rc;
        }

        foreach (JournalKeyVersion item in flushed)
        {
            rc = BindBlob(_delete, 2, item.Key);
            if (rc == raw.SQLITE_OK)
            {
                rc = raw.sqlite3_bind_int64(_delete, 3, item.Version);
            }

            if (rc == raw.SQLITE_OK)
            {
                rc = JournalTransactions.Step(_delete);
            }

            if (rc != raw.SQLITE_DONE)
            {
                return rc;
            }
        }

        return raw.SQLITE_DONE;
    }

    public void Dispose()
    {
        _begin.Dispose();
        _commit.Dispose();
        _upsert.Dispose();
        _delete.Dispose();
        Connection.Dispose();
    }

    /// <summary>
    /// Binds a BLOB; an empty array is bound as a zero-length BLOB, because SQLite binds NULL for a null pointer and NULL
    /// means "delete" in the value column.
    /// </summary>
    private static int BindBlob(sqlite3_stmt statement, int index, byte[] value) =>
        value.Length == 0 ? raw.sqlite3_bind_zeroblob(statement, index, 0) : raw.sqlite3_bind_blob(statement, index, value);

    private int BindName(sqlite3_stmt statement, string cacheName)
    {
        if (!ReferenceEquals(cacheName, _lastName))
        {
            if (!_names.TryGetValue(cacheName, out byte[]? utf8))
            {
                if (_names.Count >= MaxCachedNames)
                {
                    _names.Clear();
                }

                utf8 = Encoding.UTF8.GetBytes(cacheName);
                _names[cacheName] = utf8;
            }

            _lastName = cacheName;
            _lastNameUtf8 = utf8;
        }

        return raw.sqlite3_bind_text(statement, 1, _lastNameUtf8);
    }

    private sqlite3_stmt Prepare(string sql)
    {
        int rc = raw.sqlite3_prepare_v3(Db, sql, raw.SQLITE_PREPARE_PERSISTENT, out sqlite3_stmt statement, out _);
        if (rc != raw.SQLITE_OK)
        {
            throw JournalErrors.Capture(Db, rc);
        }

        return statement;
    }
}
