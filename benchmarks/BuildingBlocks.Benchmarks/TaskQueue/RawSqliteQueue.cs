using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// The floor under any SQLite-backed lease: the queue a developer writes by hand with Microsoft.Data.Sqlite. One table
/// (id, state, payload, lease token, lease expiry) with a partial index on queued ids, one open connection in WAL mode
/// with <c>synchronous = NORMAL</c> (the settings <c>SqliteTaskStore</c> uses), prepared autocommit statements, no
/// validation, no retries, no telemetry and no second process to coordinate with.
/// </summary>
internal sealed class RawSqliteQueue : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _claim;
    private readonly SqliteCommand _heartbeat;
    private readonly SqliteCommand _complete;
    private readonly List<(long Id, long Token)> _claimed = [];

    public RawSqliteQueue(string path)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode = WAL;");
        Execute("PRAGMA synchronous = NORMAL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS queue (
                id               INTEGER PRIMARY KEY,
                state            INTEGER NOT NULL,
                payload          BLOB    NOT NULL,
                lease_token      INTEGER NOT NULL,
                lease_expires_at INTEGER
            );
            CREATE INDEX IF NOT EXISTS ix_queue_queued ON queue (id) WHERE state = 0;
            """);

        _insert = Prepare("INSERT INTO queue (state, payload, lease_token) VALUES (0, $payload, 0);", "$payload");
        _claim = Prepare(
            """
            UPDATE queue SET state = 1, lease_token = lease_token + 1, lease_expires_at = $expires
            WHERE id IN (SELECT id FROM queue WHERE state = 0 ORDER BY id LIMIT $count)
            RETURNING id, lease_token, payload;
            """,
            "$expires",
            "$count");
        _heartbeat = Prepare("UPDATE queue SET lease_expires_at = $expires WHERE id = $id AND lease_token = $token AND state = 1;", "$expires", "$id", "$token");
        _complete = Prepare("UPDATE queue SET state = 2, lease_expires_at = NULL WHERE id = $id AND lease_token = $token AND state = 1;", "$id", "$token");
    }

    /// <summary>Inserts tasks in one transaction.</summary>
    public void Enqueue(int count, byte[] payload)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction();
        _insert.Transaction = transaction;
        _insert.Parameters[0].Value = payload;
        for (int i = 0; i < count; i++)
        {
            _insert.ExecuteNonQuery();
        }

        transaction.Commit();
        _insert.Transaction = null;
    }

    /// <summary>Leases up to <paramref name="count"/> queued rows in one statement; the ids and tokens are in <see cref="Claimed"/>.</summary>
    public int Claim(int count, TimeSpan leaseDuration)
    {
        _claimed.Clear();
        _claim.Parameters[0].Value = (DateTimeOffset.UtcNow + leaseDuration).UtcTicks;
        _claim.Parameters[1].Value = count;
        using SqliteDataReader reader = _claim.ExecuteReader();
        while (reader.Read())
        {
            _claimed.Add((reader.GetInt64(0), reader.GetInt64(1)));
            _ = reader.GetFieldValue<byte[]>(2);
        }

        return _claimed.Count;
    }

    public IReadOnlyList<(long Id, long Token)> Claimed => _claimed;

    public bool Heartbeat(long id, long token, TimeSpan leaseDuration)
    {
        _heartbeat.Parameters[0].Value = (DateTimeOffset.UtcNow + leaseDuration).UtcTicks;
        _heartbeat.Parameters[1].Value = id;
        _heartbeat.Parameters[2].Value = token;
        return _heartbeat.ExecuteNonQuery() == 1;
    }

    public bool Complete(long id, long token)
    {
        _complete.Parameters[0].Value = id;
        _complete.Parameters[1].Value = token;
        return _complete.ExecuteNonQuery() == 1;
    }

    public long Queued()
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM queue WHERE state = 0;";
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        _insert.Dispose();
        _claim.Dispose();
        _heartbeat.Dispose();
        _complete.Dispose();
        _connection.Dispose();
    }

    private void Execute(string sql)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }
}
