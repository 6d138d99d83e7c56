using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.TaskQueue.Sqlite;

/// <summary>
/// The store's one writer connection and its prepared statements. Not thread-safe: <see cref="SqliteTaskStore"/> calls
/// it under its write lock, inside a <c>BEGIN IMMEDIATE</c> transaction. Each method re-binds the parameters of a
/// statement prepared once, so SQLite never parses the hot statements again.
/// </summary>
internal sealed class TaskWriter : IDisposable
{

    private readonly List<SqliteCommand> _commands = [];

    private readonly SqliteCommand _insert;
    private readonly SqliteParameter _insertQueue, _insertPayload, _insertPriority, _insertMaxAttempts, _insertEnqueuedAt, _insertRunAt, _insertUniqueKey, _insertTraceParent;
    private readonly SqliteCommand _findUnique;
    private readonly SqliteParameter _findUniqueKey;

    private readonly SqliteCommand _claimSelect;
    private readonly SqliteParameter _claimQueue, _claimNow, _claimLimit;
    private readonly SqliteCommand _claim;
    private readonly SqliteParameter _claimId, _claimExpires, _claimWorker;

    private readonly SqliteCommand _heartbeat;
    private readonly SqliteParameter _heartbeatId, _heartbeatToken, _heartbeatExpires, _heartbeatProgress;

    private readonly SqliteCommand _finish;
    private readonly SqliteParameter _finishId, _finishToken, _finishState, _finishNow, _finishError;

    private readonly SqliteCommand _retry;
    private readonly SqliteParameter _retryId, _retryToken, _retryRunAt, _retryError, _retryNow;

    private readonly SqliteCommand _release;
    private readonly SqliteParameter _releaseId, _releaseToken, _releaseNow;

    public TaskWriter(SqliteConnection connection, int commandTimeoutSeconds)
    {
        Connection = connection;
        CommandTimeoutSeconds = commandTimeoutSeconds;

        _insert = Prepare(
            """
            INSERT INTO tasks (queue, state, payload, priority, attempts, max_attempts, enqueued_at, run_at, lease_token, cancel_requested, unique_key, trace_parent)
            VALUES ($queue, 0, $payload, $priority, 0, $max_attempts, $enqueued_at, $run_at, 0, 0, $unique_key, $trace_parent)
            ON CONFLICT DO NOTHING
            RETURNING id;
            """,
            out SqliteParameter[] p,
            ("$queue", SqliteType.Text), ("$payload", SqliteType.Blob), ("$priority", SqliteType.Integer), ("$max_attempts", SqliteType.Integer),
            ("$enqueued_at", SqliteType.Integer), ("$run_at", SqliteType.Integer), ("$unique_key", SqliteType.Text), ("$trace_parent", SqliteType.Text));
        (_insertQueue, _insertPayload, _insertPriority, _insertMaxAttempts, _insertEnqueuedAt, _insertRunAt, _insertUniqueKey, _insertTraceParent) =
            (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);

        _findUnique = Prepare("SELECT id FROM tasks WHERE unique_key = $unique_key;", out p, ("$unique_key", SqliteType.Text));
        _findUniqueKey = p[0];

        // Two statements in one transaction, not UPDATE … WHERE id IN (SELECT … LIMIT): once completed rows pile up,
        // SQLite plans that form ten times slower (~90 µs instead of ~9 µs per claim, measured on 3.4x).
        _claimSelect = Prepare(
            """
            SELECT id FROM tasks
            WHERE queue = $queue AND state = 0 AND run_at <= $now
            ORDER BY priority DESC, run_at, id
            LIMIT $limit;
            """,
            out p,
            ("$queue", SqliteType.Text), ("$now", SqliteType.Integer), ("$limit", SqliteType.Integer));
        (_claimQueue, _claimNow, _claimLimit) = (p[0], p[1], p[2]);

        _claim = Prepare(
            $"""
            UPDATE tasks
            SET state = 1, attempts = attempts + 1, lease_token = lease_token + 1, lease_expires_at = $lease_expires_at, leased_by = $worker
            WHERE id = $id AND state = 0
            RETURNING {TaskRows.LeasedColumns};
            """,
            out p,
            ("$id", SqliteType.Integer), ("$lease_expires_at", SqliteType.Integer), ("$worker", SqliteType.Text));
        (_claimId, _claimExpires, _claimWorker) = (p[0], p[1], p[2]);

        _heartbeat = Prepare(
            """
            UPDATE tasks SET lease_expires_at = $lease_expires_at, progress = COALESCE($progress, progress)
            WHERE id = $id AND state = 1 AND lease_token = $token
            RETURNING cancel_requested;
            """,
            out p,
            ("$id", SqliteType.Integer), ("$token", SqliteType.Integer), ("$lease_expires_at", SqliteType.Integer), ("$progress", SqliteType.Text));
        (_heartbeatId, _heartbeatToken, _heartbeatExpires, _heartbeatProgress) = (p[0], p[1], p[2], p[3]);

        _finish = Prepare(
            """
            UPDATE tasks SET state = $state, lease_expires_at = NULL, finished_at = $now, last_error = COALESCE($error, last_error)
            WHERE id = $id AND state = 1 AND lease_token = $token;
            """,
            out p,
            ("$id", SqliteType.Integer), ("$token", SqliteType.Integer), ("$state", SqliteType.Integer), ("$now", SqliteType.Integer), ("$error", SqliteType.Text));
        (_finishId, _finishToken, _finishState, _finishNow, _finishError) = (p[0], p[1], p[2], p[3], p[4]);

        // A pending cancel request ends the task instead of scheduling the retry. SET expressions read the row as it was.
        _retry = Prepare(
            """
            UPDATE tasks SET
                state = CASE WHEN cancel_requested <> 0 THEN 4 ELSE 0 END,
                run_at = CASE WHEN cancel_requested <> 0 THEN run_at ELSE $run_at END,
                finished_at = CASE WHEN cancel_requested <> 0 THEN $now ELSE finished_at END,
                lease_expires_at = NULL,
                last_error = $error
            WHERE id = $id AND state = 1 AND lease_token = $token;
            """,
            out p,
            ("$id", SqliteType.Integer), ("$token", SqliteType.Integer), ("$run_at", SqliteType.Integer), ("$error", SqliteType.Text), ("$now", SqliteType.Integer));
        (_retryId, _retryToken, _retryRunAt, _retryError, _retryNow) = (p[0], p[1], p[2], p[3], p[4]);

        // The attempt is given back; a pending cancel request ends the task instead of queuing it again.
        _release = Prepare(
            """
            UPDATE tasks SET
                state = CASE WHEN cancel_requested <> 0 THEN 4 ELSE 0 END,
                run_at = CASE WHEN cancel_requested <> 0 THEN run_at ELSE $now END,
                finished_at = CASE WHEN cancel_requested <> 0 THEN $now ELSE finished_at END,
                lease_expires_at = NULL,
                attempts = MAX(0, attempts - 1)
            WHERE id = $id AND state = 1 AND lease_token = $token;
            """,
            out p,
            ("$id", SqliteType.Integer), ("$token", SqliteType.Integer), ("$now", SqliteType.Integer));
        (_releaseId, _releaseToken, _releaseNow) = (p[0], p[1], p[2]);
    }

    public SqliteConnection Connection { get; }

    public int CommandTimeoutSeconds { get; }

    /// <summary>Inserts one task, or finds the task that already holds its unique key (ids stay dense: no id is spent on a duplicate).</summary>
    public EnqueueResult Insert(TaskInsert task)
    {
        if (task.UniqueKey is { } key)
        {
            _findUniqueKey.Value = key;
            if (_findUnique.ExecuteScalar() is long existing)
            {
                return new EnqueueResult(existing, Created: false);
            }
        }

        _insertQueue.Value = task.Queue;
        _insertPayload.Value = ToArray(task.Payload);
        _insertPriority.Value = task.Priority;
        _insertMaxAttempts.Value = task.MaxAttempts;
        _insertEnqueuedAt.Value = task.EnqueuedAt.UtcTicks;
        _insertRunAt.Value = task.RunAt.UtcTicks;
        _insertUniqueKey.Value = (object?)task.UniqueKey ?? DBNull.Value;
        _insertTraceParent.Value = (object?)task.TraceParent ?? DBNull.Value;
        if (_insert.ExecuteScalar() is long id)
        {
            return new EnqueueResult(id, Created: true);
        }

        // Unreachable under the write lock (the key was looked up first), kept so a conflict can never lose the answer.
        _findUniqueKey.Value = task.UniqueKey;
        return new EnqueueResult((long)_findUnique.ExecuteScalar()!, Created: false);
    }

    /// <summary>Leases due tasks (inside the caller's write transaction) and returns them in claim order.</summary>
    public List<LeasedTask> Claim(ClaimRequest request, DateTimeOffset now, DateTimeOffset leaseExpiresAt)
    {
        _claimQueue.Value = request.Queue;
        _claimNow.Value = now.UtcTicks;
        _claimLimit.Value = request.MaxCount;
        var ids = new List<long>(Math.Min(request.MaxCount, 64));
        using (SqliteDataReader reader = _claimSelect.ExecuteReader())
        {
            while (reader.Read())
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        _claimExpires.Value = leaseExpiresAt.UtcTicks;
        _claimWorker.Value = (object?)request.WorkerId ?? DBNull.Value;
        var claimed = new List<LeasedTask>(ids.Count);
        foreach (long id in ids)
        {
            _claimId.Value = id;
            using SqliteDataReader reader = _claim.ExecuteReader();
            if (reader.Read())
            {
                claimed.Add(TaskRows.ReadLeased(reader, now, leaseExpiresAt));
            }
        }

        return claimed;
    }

    /// <summary>Dead-letters a queued row a claim could not read, changing only its state, finish time and error.</summary>
    public bool Quarantine(long taskId, string error, DateTimeOffset now)
    {
        using SqliteCommand update = Create("UPDATE tasks SET state = 3, finished_at = $now, last_error = $error WHERE id = $id AND state = 0;");
        update.Parameters.AddWithValue("$id", taskId);
        update.Parameters.AddWithValue("$now", now.UtcTicks);
        update.Parameters.AddWithValue("$error", error);
        return update.ExecuteNonQuery() == 1;
    }

    public LeaseStatus Heartbeat(long taskId, long leaseToken, DateTimeOffset leaseExpiresAt, string? progress)
    {
        _heartbeatId.Value = taskId;
        _heartbeatToken.Value = leaseToken;
        _heartbeatExpires.Value = leaseExpiresAt.UtcTicks;
        _heartbeatProgress.Value = (object?)progress ?? DBNull.Value;
        return _heartbeat.ExecuteScalar() switch
        {
            null => LeaseStatus.Lost,
            long cancelRequested when cancelRequested != 0 => LeaseStatus.CancelRequested,
            _ => LeaseStatus.Active,
        };
    }

    /// <summary>Ends a lease in a final state (completed, canceled or dead-lettered).</summary>
    public bool Finish(long taskId, long leaseToken, TaskState state, DateTimeOffset now, string? error)
    {
        _finishId.Value = taskId;
        _finishToken.Value = leaseToken;
        _finishState.Value = (long)state;
        _finishNow.Value = now.UtcTicks;
        _finishError.Value = (object?)error ?? DBNull.Value;
        return _finish.ExecuteNonQuery() == 1;
    }

    /// <summary>Queues a failed attempt again at <paramref name="retryAt"/>, or cancels it when cancellation was requested.</summary>
    public bool Retry(long taskId, long leaseToken, DateTimeOffset retryAt, string error, DateTimeOffset now)
    {
        _retryId.Value = taskId;
        _retryToken.Value = leaseToken;
        _retryRunAt.Value = retryAt.UtcTicks;
        _retryError.Value = error;
        _retryNow.Value = now.UtcTicks;
        return _retry.ExecuteNonQuery() == 1;
    }

    /// <summary>Queues a leased task again, due now, giving the attempt back, or cancels it when cancellation was requested.</summary>
    public bool Release(long taskId, long leaseToken, DateTimeOffset now)
    {
        _releaseId.Value = taskId;
        _releaseToken.Value = leaseToken;
        _releaseNow.Value = now.UtcTicks;
        return _release.ExecuteNonQuery() == 1;
    }

    public CancelResult Cancel(long taskId, DateTimeOffset now)
    {
        TaskState state;
        using (SqliteCommand select = Create("SELECT id, state FROM tasks WHERE id = $id;"))
        {
            select.Parameters.AddWithValue("$id", taskId);
            using SqliteDataReader reader = select.ExecuteReader();
            if (!reader.Read())
            {
                return CancelResult.NotFound;
            }

            state = TaskRows.ReadState(reader, 1, taskId);
        }

        switch (state)
        {
            case TaskState.Queued:
                using (SqliteCommand update = Create("UPDATE tasks SET state = 4, finished_at = $now WHERE id = $id;"))
                {
                    update.Parameters.AddWithValue("$id", taskId);
                    update.Parameters.AddWithValue("$now", now.UtcTicks);
                    _ = update.ExecuteNonQuery();
                }

                return CancelResult.Canceled;
            case TaskState.Leased:
                using (SqliteCommand update = Create("UPDATE tasks SET cancel_requested = 1 WHERE id = $id;"))
                {
                    update.Parameters.AddWithValue("$id", taskId);
                    _ = update.ExecuteNonQuery();
                }

                return CancelResult.CancelRequested;
            default:
                return CancelResult.AlreadyFinished;
        }
    }

    /// <summary>
    /// Ends every expired lease: canceled when cancellation was requested, dead-lettered when it was the last attempt,
    /// otherwise queued again, due now. The three statements see disjoint rows because each one moves its rows out of
    /// the leased state.
    /// </summary>
    public SweepResult RecoverExpiredLeases(DateTimeOffset now)
    {
        const string Expired = "state = 1 AND lease_expires_at <= $now";
        const string LeaseExpiredError = "$prefix || COALESCE(leased_by, '') || $suffix";
        _ = ExecuteSweep($"UPDATE tasks SET state = 4, lease_expires_at = NULL, finished_at = $now WHERE {Expired} AND cancel_requested <> 0;", now);
        int deadLettered = ExecuteSweep(
            $"UPDATE tasks SET state = 3, lease_expires_at = NULL, finished_at = $now, last_error = {LeaseExpiredError} WHERE {Expired} AND attempts >= max_attempts;", now);
        int requeued = ExecuteSweep(
            $"UPDATE tasks SET state = 0, lease_expires_at = NULL, run_at = $now, last_error = {LeaseExpiredError} WHERE {Expired};", now);
        return new SweepResult(requeued, deadLettered);
    }

    public bool Redrive(long taskId, DateTimeOffset now)
    {
        using SqliteCommand command = Create(
            "UPDATE tasks SET state = 0, attempts = 0, run_at = $now, finished_at = NULL, cancel_requested = 0, lease_expires_at = NULL WHERE id = $id AND state = 3;");
        command.Parameters.AddWithValue("$id", taskId);
        command.Parameters.AddWithValue("$now", now.UtcTicks);
        return command.ExecuteNonQuery() == 1;
    }

    public int RedriveQueue(string queue, DateTimeOffset now)
    {
        using SqliteCommand command = Create(
            "UPDATE tasks SET state = 0, attempts = 0, run_at = $now, finished_at = NULL, cancel_requested = 0, lease_expires_at = NULL WHERE queue = $queue AND state = 3;");
        command.Parameters.AddWithValue("$queue", queue);
        command.Parameters.AddWithValue("$now", now.UtcTicks);
        return command.ExecuteNonQuery();
    }

    public int Prune(DateTimeOffset finishedBefore, DateTimeOffset deadLetteredBefore)
    {
        using SqliteCommand finished = Create("DELETE FROM tasks WHERE finished_at < $before AND state IN (2, 4);");
        finished.Parameters.AddWithValue("$before", finishedBefore.UtcTicks);
        using SqliteCommand deadLetters = Create("DELETE FROM tasks WHERE finished_at < $before AND state = 3;");
        deadLetters.Parameters.AddWithValue("$before", deadLetteredBefore.UtcTicks);
        return finished.ExecuteNonQuery() + deadLetters.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (SqliteCommand command in _commands)
        {
            command.Dispose();
        }

        Connection.Dispose();
    }

    private static byte[] ToArray(ReadOnlyMemory<byte> payload) =>
        MemoryMarshal.TryGetArray(payload, out ArraySegment<byte> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();

    private int ExecuteSweep(string sql, DateTimeOffset now)
    {
        using SqliteCommand command = Create(sql);
        command.Parameters.AddWithValue("$now", now.UtcTicks);
        command.Parameters.AddWithValue("$prefix", LeaseExpiredMessage.Prefix);
        command.Parameters.AddWithValue("$suffix", LeaseExpiredMessage.Suffix);
        return command.ExecuteNonQuery();
    }

    private SqliteCommand Create(string sql)
    {
        SqliteCommand command = Connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = CommandTimeoutSeconds;
        return command;
    }

    private SqliteCommand Prepare(string sql, out SqliteParameter[] parameters, params (string Name, SqliteType Type)[] names)
    {
        SqliteCommand command = Create(sql);
        parameters = new SqliteParameter[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            parameters[i] = command.Parameters.Add(names[i].Name, names[i].Type);
        }

        command.Prepare();
        _commands.Add(command);
        return command;
    }
}
