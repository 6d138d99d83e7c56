using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Benchmarks.Sagas;

/// <summary>
/// The baseline: what an app writes by hand to checkpoint a step — one transaction that updates the saga row (guarded
/// by a version column) and appends a history row, on a WAL SQLite file with synchronous=FULL (durable commits), with
/// prepared commands. No lease, no group commit, no serialization.
/// </summary>
internal sealed class HandRolledSqliteCheckpoint : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _update;
    private readonly SqliteCommand _insert;
    private long _version;
    private long _sequence;

    public HandRolledSqliteCheckpoint(string path)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ConnectionString);
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        Execute("CREATE TABLE saga (id TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL, progress TEXT NOT NULL, updated_at INTEGER NOT NULL);"
            + "CREATE TABLE saga_history (saga_id TEXT NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (saga_id, seq));"
            + "INSERT INTO saga VALUES ('s1', 0, '{}', '{}', 0);");
        _update = _connection.CreateCommand();
        _update.CommandText = "UPDATE saga SET version = $next, data = $data, progress = $progress, updated_at = $at WHERE id = 's1' AND version = $version";
        _update.Parameters.Add("$next", SqliteType.Integer);
        _update.Parameters.Add("$data", SqliteType.Text);
        _update.Parameters.Add("$progress", SqliteType.Text);
        _update.Parameters.Add("$at", SqliteType.Integer);
        _update.Parameters.Add("$version", SqliteType.Integer);
        _insert = _connection.CreateCommand();
        _insert.CommandText = "INSERT INTO saga_history VALUES ('s1', $seq, $step, $at)";
        _insert.Parameters.Add("$seq", SqliteType.Integer);
        _insert.Parameters.Add("$step", SqliteType.Text);
        _insert.Parameters.Add("$at", SqliteType.Integer);
        _update.Prepare();
        _insert.Prepare();
    }

    public void Checkpoint(string data, string progress)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction();
        _update.Transaction = transaction;
        _insert.Transaction = transaction;
        long now = DateTimeOffset.UtcNow.UtcTicks;
        _update.Parameters[0].Value = _version + 1;
        _update.Parameters[1].Value = data;
        _update.Parameters[2].Value = progress;
        _update.Parameters[3].Value = now;
        _update.Parameters[4].Value = _version;
        if (_update.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException("The saga row changed under the benchmark.");
        }

        _version++;
        _insert.Parameters[0].Value = ++_sequence;
        _insert.Parameters[1].Value = "step";
        _insert.Parameters[2].Value = now;
        _insert.ExecuteNonQuery();
        transaction.Commit();
    }

    public void Dispose()
    {
        _update.Dispose();
        _insert.Dispose();
        _connection.Dispose();
    }

    private void Execute(string sql)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
