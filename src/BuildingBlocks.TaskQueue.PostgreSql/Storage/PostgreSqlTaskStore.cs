using Npgsql;
using NpgsqlTypes;

namespace BuildingBlocks.TaskQueue.PostgreSql;

/// <summary>
/// A durable <see cref="ITaskStore"/> on PostgreSQL, shared by workers on any number of machines. Works without DI:
/// <c>new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = "..." })</c>.
/// </summary>
/// <remarks>
/// <para>
/// A claim is one statement: it picks the queue's due tasks in claim order from a partial index with
/// <c>FOR UPDATE SKIP LOCKED</c>, so competing workers never wait for each other or take the same task, and leases them
/// in the same round trip. Other writes are single statements too, guarded by the lease token.
/// </para>
/// <para>
/// An enqueue sends <c>NOTIFY</c> on the schema's channel inside its transaction, so listeners hear of a task exactly when
/// it is committed. Large batches without unique keys are written with binary <c>COPY</c>.
/// <see cref="EnqueueAsync(NpgsqlTransaction, IReadOnlyList{TaskInsert}, CancellationToken)"/> enqueues inside the
/// caller's own transaction: the task exists if and only if the caller commits.
/// </para>
/// <para>
/// Times are the store's <see cref="TimeProvider"/> (not the server clock) stored as <c>timestamptz</c> (microseconds),
/// so every worker must run with a reasonably synchronized clock, as leases already require.
/// </para>
/// </remarks>
public sealed class PostgreSqlTaskStore : ITaskStore, IAsyncDisposable
{
    /// <summary>The schema version this version of the package writes (kept in the <c>schema_version</c> table).</summary>
    public const int SchemaVersion = PostgreSqlSchema.Version;

    /// <summary>From this many tasks without unique keys, a batch is written with binary COPY instead of INSERTs.</summary>
    private const int CopyThreshold = 64;


    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly TimeProvider _timeProvider;
    private readonly string _schema;
    private readonly bool _migrate;
    private readonly int _commandTimeoutSeconds;
    private readonly string _description;
    private readonly SemaphoreSlim _initializeLock = new(1, 1);
    private readonly Sql _sql;
    private readonly CompletionBatcher _completions;
    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Creates a store on the system clock. Nothing is opened until the first call.</summary>
    /// <param name="options">The connection and the schema.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public PostgreSqlTaskStore(PostgreSqlTaskStoreOptions options)
        : this(options, TimeProvider.System)
    {
    }

    /// <summary>Creates a store. Nothing is opened until the first call.</summary>
    /// <param name="options">The connection and the schema.</param>
    /// <param name="timeProvider">The clock for enqueue, run-at and lease times; clients and workers must use the same one.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public PostgreSqlTaskStore(PostgreSqlTaskStoreOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ValidateOptionsResult(options);
        _timeProvider = timeProvider;
        _schema = options.Schema;
        _migrate = options.MigrateSchema;
        _commandTimeoutSeconds = (int)Math.Ceiling(options.CommandTimeout.TotalSeconds);
        if (options.DataSource is { } dataSource)
        {
            _dataSource = dataSource;
        }
        else
        {
            // The store sends the same few statements all day: let Npgsql prepare them (unless the user chose otherwise).
            var connectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            if (connectionString.MaxAutoPrepare == 0)
            {
                connectionString.MaxAutoPrepare = 32;
            }

            _dataSource = NpgsqlDataSource.Create(connectionString.ConnectionString);
            _ownsDataSource = true;
        }

        var connection = new NpgsqlConnectionStringBuilder(_dataSource.ConnectionString);
        _description = $"(host '{connection.Host}', port {connection.Port}, database '{connection.Database ?? connection.Username}', schema '{_schema}')";
        _sql = new Sql(PostgreSqlSchema.Quote(_schema), options.SynchronousWorkerCommits);
        Channel = PostgreSqlSchema.Channel(_schema);
        _completions = new CompletionBatcher(CompleteBatchAsync);
    }

    /// <summary>The NOTIFY channel enqueues signal on; its payload is the queue name.</summary>
    public string Channel { get; }

    /// <summary>The schema that holds the tables.</summary>
    public string Schema => _schema;

    internal NpgsqlDataSource DataSource => _dataSource;

    internal string Description => _description;

    /// <summary>The SQL that creates the schema at <see cref="SchemaVersion"/>, for users who set <see cref="PostgreSqlTaskStoreOptions.MigrateSchema"/> to false and migrate themselves.</summary>
    /// <param name="schema">The schema name.</param>
    /// <returns>The script.</returns>
    public static string GetMigrationScript(string schema = PostgreSqlTaskStoreOptions.DefaultSchema)
    {
        ValidateOptionsResult(new PostgreSqlTaskStoreOptions { Schema = schema, ConnectionString = "Host=localhost" });
        return PostgreSqlSchema.Script(schema);
    }

    /// <summary>
    /// Creates or upgrades the schema (or, with <see cref="PostgreSqlTaskStoreOptions.MigrateSchema"/> off, checks its
    /// version). Every call does this on first use; the DI registration calls it at host start so problems show at once.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is ready.</returns>
    /// <exception cref="TaskStoreException">The server cannot be reached, or the schema is of another version.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        await _initializeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_initialized)
            {
                await Translate(() => PostgreSqlSchema.InitializeAsync(_dataSource, _schema, _migrate, _description, cancellationToken)).ConfigureAwait(false);
                _initialized = true;
            }
        }
        finally
        {
            _initializeLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken)
    {
        ValidateInserts(tasks);
        if (tasks.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return [];
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await Translate(async () =>
        {
            using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            IReadOnlyList<EnqueueResult> results = await EnqueueCoreAsync(connection, transaction, tasks, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return results;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores tasks inside the caller's open transaction: they exist if and only if the caller commits it, and workers
    /// hear of them (NOTIFY) only then. The transaction must be on the database this store uses.
    /// </summary>
    /// <param name="transaction">The caller's open transaction.</param>
    /// <param name="tasks">The tasks, already validated (use the queue's extension methods to validate them).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per task, in order.</returns>
    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueAsync(NpgsqlTransaction transaction, IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        NpgsqlConnection connection = transaction.Connection
            ?? throw new ArgumentException("The transaction is already committed or rolled back.", nameof(transaction));
        ValidateInserts(tasks);
        if (tasks.Count == 0)
        {
            return [];
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await Translate(() => EnqueueCoreAsync(connection, transaction, tasks, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeasedTask>> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request.Queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxCount, 1);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        DateTimeOffset expires = now + request.LeaseDuration;
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Claim);
            command.Parameters.Add(new NpgsqlParameter<string>("queue", request.Queue));
            command.Parameters.Add(Time("now", now));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", request.MaxCount));
            command.Parameters.Add(Time("expires", expires));
            command.Parameters.Add(new NpgsqlParameter("worker", NpgsqlDbType.Text) { Value = (object?)request.WorkerId ?? DBNull.Value });
            var claimed = new List<LeasedTask>(Math.Min(request.MaxCount, 64));
            using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    claimed.Add(PostgreSqlRows.ReadLeased(reader, now, expires));
                }
            }

            // RETURNING does not keep the order of the locking subquery.
            claimed.Sort(static (a, b) =>
            {
                int byPriority = b.Priority.CompareTo(a.Priority);
                if (byPriority != 0)
                {
                    return byPriority;
                }

                int byRunAt = a.RunAt.UtcTicks.CompareTo(b.RunAt.UtcTicks);
                return byRunAt != 0 ? byRunAt : a.Id.CompareTo(b.Id);
            });
            return (IReadOnlyList<LeasedTask>)claimed;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<LeaseStatus> HeartbeatAsync(long taskId, long leaseToken, TimeSpan leaseDuration, string? progress, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset expires = _timeProvider.GetUtcNow() + leaseDuration;
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Heartbeat);
            command.Parameters.Add(new NpgsqlParameter<long>("id", taskId));
            command.Parameters.Add(new NpgsqlParameter<long>("token", leaseToken));
            command.Parameters.Add(Time("expires", expires));
            command.Parameters.Add(new NpgsqlParameter("progress", NpgsqlDbType.Text) { Value = (object?)progress ?? DBNull.Value });
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) switch
            {
                null => LeaseStatus.Lost,
                true => LeaseStatus.CancelRequested,
                _ => LeaseStatus.Active,
            };
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Completions that arrive together are sent in one statement.</remarks>
    public async ValueTask<bool> CompleteAsync(long taskId, long leaseToken, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return await _completions.CompleteAsync(taskId, leaseToken, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<bool> AcknowledgeCancelAsync(long taskId, long leaseToken, CancellationToken cancellationToken) =>
        FinishAsync(taskId, leaseToken, TaskState.Canceled, error: null, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> FailAsync(long taskId, long leaseToken, TaskFailure failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure.Error);
        if (failure.RetryAt is not { } retryAt)
        {
            return await FinishAsync(taskId, leaseToken, TaskState.DeadLettered, failure.Error, cancellationToken).ConfigureAwait(false);
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Retry);
            command.Parameters.Add(new NpgsqlParameter<long>("id", taskId));
            command.Parameters.Add(new NpgsqlParameter<long>("token", leaseToken));
            command.Parameters.Add(Time("run_at", retryAt));
            command.Parameters.Add(new NpgsqlParameter<string>("error", failure.Error));
            command.Parameters.Add(Time("now", now));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> ReleaseAsync(long taskId, long leaseToken, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Release);
            command.Parameters.Add(new NpgsqlParameter<long>("id", taskId));
            command.Parameters.Add(new NpgsqlParameter<long>("token", leaseToken));
            command.Parameters.Add(Time("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("channel", Channel));
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 1;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<CancelResult> CancelAsync(long taskId, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Cancel);
            command.Parameters.Add(new NpgsqlParameter<long>("id", taskId));
            command.Parameters.Add(Time("now", now));
            object? state = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return state switch
            {
                null => CancelResult.NotFound,
                short s when PostgreSqlRows.ReadState(s, taskId) == TaskState.Queued => CancelResult.Canceled,
                short s when PostgreSqlRows.ReadState(s, taskId) == TaskState.Leased => CancelResult.CancelRequested,
                _ => CancelResult.AlreadyFinished,
            };
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<SweepResult> RecoverExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

            // The three statements see disjoint rows: each moves its rows out of the leased state.
            _ = await SweepAsync(connection, transaction, _sql.SweepCanceled, now, cancellationToken).ConfigureAwait(false);
            int deadLettered = await SweepAsync(connection, transaction, _sql.SweepDeadLettered, now, cancellationToken).ConfigureAwait(false);
            int requeued = await SweepAsync(connection, transaction, _sql.SweepRequeued, now, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new SweepResult(requeued, deadLettered);
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<TaskSnapshot?> GetAsync(long taskId, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Get);
            command.Parameters.Add(new NpgsqlParameter<long>("id", taskId));
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? PostgreSqlRows.ReadSnapshot(reader) : null;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<TaskSnapshot>> ListAsync(TaskQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await Translate(async () =>
        {
            var sql = new System.Text.StringBuilder("SELECT ")
                .Append(query.IncludePayload ? PostgreSqlRows.SnapshotColumns : PostgreSqlRows.SnapshotColumnsWithoutPayload)
                .Append(" FROM ").Append(_sql.Tasks).Append(" WHERE id > @after");
            using NpgsqlCommand command = Command("");
            command.Parameters.Add(new NpgsqlParameter<long>("after", query.AfterId));
            if (query.Queue is not null)
            {
                sql.Append(" AND queue = @queue");
                command.Parameters.Add(new NpgsqlParameter<string>("queue", query.Queue));
            }

            if (query.State is { } state)
            {
                // A literal, so the planner can use the partial indexes (claims, dead letters).
                sql.Append(" AND state = ").Append((int)state);
            }

            sql.Append(" ORDER BY id LIMIT @limit;");
            command.Parameters.Add(new NpgsqlParameter<int>("limit", query.Limit));
            command.CommandText = sql.ToString();
            List<TaskSnapshot> page = [];
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                page.Add(PostgreSqlRows.ReadSnapshot(reader));
            }

            return (IReadOnlyList<TaskSnapshot>)page;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> RedriveAsync(long taskId, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Redrive);
            command.Parameters.Add(new NpgsqlParameter<long>("id", taskId));
            command.Parameters.Add(Time("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("channel", Channel));
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 1;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<int> RedriveQueueAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.RedriveQueue);
            command.Parameters.Add(new NpgsqlParameter<string>("queue", queue));
            command.Parameters.Add(Time("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("channel", Channel));
            return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<int> PruneAsync(DateTimeOffset finishedBefore, DateTimeOffset deadLetteredBefore, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Prune);
            command.Parameters.Add(Time("finished_before", finishedBefore));
            command.Parameters.Add(Time("dead_lettered_before", deadLetteredBefore));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<QueueStatistics>> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Statistics);
            command.Parameters.Add(Time("now", now));
            List<QueueStatistics> statistics = [];
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                statistics.Add(new QueueStatistics
                {
                    Queue = reader.GetString(0),
                    Ready = reader.GetInt64(1),
                    Scheduled = reader.GetInt64(2),
                    Leased = reader.GetInt64(3),
                    ExpiredLeases = reader.GetInt64(4),
                    Completed = reader.GetInt64(5),
                    DeadLettered = reader.GetInt64(6),
                    Canceled = reader.GetInt64(7),
                    OldestReadyRunAt = reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
                });
            }

            // The server orders by its collation; the contract orders by ordinal queue name.
            statistics.Sort(static (a, b) => string.CompareOrdinal(a.Queue, b.Queue));
            return (IReadOnlyList<QueueStatistics>)statistics;
        }).ConfigureAwait(false);
    }

    /// <summary>Disposes the data source when the store created it from a connection string.</summary>
    /// <returns>A task that completes when the connections are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _initializeLock.Dispose();
    }

    private static void ValidateOptionsResult(PostgreSqlTaskStoreOptions options)
    {
        var validation = new PostgreSqlTaskStoreOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }
    }

    private static void ValidateInserts(IReadOnlyList<TaskInsert> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        for (int i = 0; i < tasks.Count; i++)
        {
            if (tasks[i] is null)
            {
                throw new ArgumentNullException(nameof(tasks), $"Task {i} of the batch is null.");
            }
        }
    }

    private static NpgsqlParameter<DateTimeOffset> Time(string name, DateTimeOffset value) =>
        new(name, NpgsqlDbType.TimestampTz) { TypedValue = value.ToUniversalTime() };

    private static byte[] ToArray(ReadOnlyMemory<byte> payload) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out ArraySegment<byte> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();

    private async Task<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken)
    {
        bool anyUniqueKey = false;
        for (int i = 0; i < tasks.Count && !anyUniqueKey; i++)
        {
            anyUniqueKey = tasks[i].UniqueKey is not null;
        }

        EnqueueResult[] results = tasks.Count >= CopyThreshold && !anyUniqueKey
            ? await CopyAsync(connection, transaction, tasks, cancellationToken).ConfigureAwait(false)
            : await InsertAsync(connection, transaction, tasks, cancellationToken).ConfigureAwait(false);

        // Delivered to listeners when (and only if) the transaction commits.
        using NpgsqlCommand notify = new(_sql.Notify, connection, transaction) { CommandTimeout = _commandTimeoutSeconds };
        notify.Parameters.Add(new NpgsqlParameter<string>("channel", Channel));
        notify.Parameters.Add(new NpgsqlParameter<string[]>("queues", [.. tasks.Select(t => t.Queue).Distinct(StringComparer.Ordinal)]));
        _ = await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>One INSERT per task in one round trip; a unique key already present (or earlier in the batch) returns the existing id.</summary>
    private async Task<EnqueueResult[]> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken)
    {
        var results = new EnqueueResult[tasks.Count];
        using (NpgsqlBatch batch = new(connection, transaction) { Timeout = _commandTimeoutSeconds })
        {
            foreach (TaskInsert task in tasks)
            {
                var command = new NpgsqlBatchCommand(_sql.Insert);
                command.Parameters.Add(new NpgsqlParameter<string>("queue", task.Queue));
                command.Parameters.Add(new NpgsqlParameter<byte[]>("payload", ToArray(task.Payload)));
                command.Parameters.Add(new NpgsqlParameter<int>("priority", task.Priority));
                command.Parameters.Add(new NpgsqlParameter<int>("max_attempts", task.MaxAttempts));
                command.Parameters.Add(Time("enqueued_at", task.EnqueuedAt));
                command.Parameters.Add(Time("run_at", task.RunAt));
                command.Parameters.Add(new NpgsqlParameter("unique_key", NpgsqlDbType.Text) { Value = (object?)task.UniqueKey ?? DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter("trace_parent", NpgsqlDbType.Text) { Value = (object?)task.TraceParent ?? DBNull.Value });
                batch.BatchCommands.Add(command);
            }

            using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            int index = 0;
            do
            {
                results[index] = await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? new EnqueueResult(reader.GetInt64(0), Created: true)
                    : default;
                index++;
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
        }

        // Keys that were already taken: ON CONFLICT waited for any transaction holding the key, so this read sees it.
        for (int i = 0; i < results.Length; i++)
        {
            if (results[i].TaskId != 0)
            {
                continue;
            }

            using NpgsqlCommand find = new(_sql.FindUniqueKey, connection, transaction) { CommandTimeout = _commandTimeoutSeconds };
            find.Parameters.Add(new NpgsqlParameter<string>("unique_key", tasks[i].UniqueKey!));
            object? id = await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            results[i] = id is long existing
                ? new EnqueueResult(existing, Created: false)
                : throw new TaskStoreException($"The PostgreSQL task store {_description} could not insert task {i} of the batch with unique key '{tasks[i].UniqueKey}' nor find the task holding it (it was deleted meanwhile); enqueue it again.");
        }

        return results;
    }

    /// <summary>Binary COPY with ids taken from the table's sequence first, so the results keep the batch's order.</summary>
    private async Task<EnqueueResult[]> CopyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken)
    {
        var results = new EnqueueResult[tasks.Count];
        using (NpgsqlCommand ids = new(_sql.NextIds, connection, transaction) { CommandTimeout = _commandTimeoutSeconds })
        {
            ids.Parameters.Add(new NpgsqlParameter<int>("count", tasks.Count));
            using NpgsqlDataReader reader = await ids.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            int index = 0;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                results[index++] = new EnqueueResult(reader.GetInt64(0), Created: true);
            }
        }

        using NpgsqlBinaryImporter writer = await connection.BeginBinaryImportAsync(_sql.Copy, cancellationToken).ConfigureAwait(false);
        writer.Timeout = TimeSpan.FromSeconds(_commandTimeoutSeconds);
        for (int i = 0; i < tasks.Count; i++)
        {
            TaskInsert task = tasks[i];
            await writer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(results[i].TaskId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(task.Queue, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync((short)TaskState.Queued, NpgsqlDbType.Smallint, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(ToArray(task.Payload), NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(task.Priority, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(task.MaxAttempts, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(task.EnqueuedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(task.RunAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
            if (task.TraceParent is null)
            {
                await writer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await writer.WriteAsync(task.TraceParent, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            }
        }

        _ = await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    private Task<HashSet<long>> CompleteBatchAsync(long[] ids, long[] tokens, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.CompleteMany);
            command.Parameters.Add(new NpgsqlParameter<long[]>("ids", ids));
            command.Parameters.Add(new NpgsqlParameter<long[]>("tokens", tokens));
            command.Parameters.Add(Time("now", now));
            var completed = new HashSet<long>(ids.Length);
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _ = completed.Add(reader.GetInt64(0));
            }

            return completed;
        });
    }

    private async ValueTask<bool> FinishAsync(long taskId, long leaseToken, TaskState state, string? error, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        return await Translate(async () =>
        {
            using NpgsqlCommand command = Command(_sql.Finish);
            command.Parameters.Add(new NpgsqlParameter<long>("id", taskId));
            command.Parameters.Add(new NpgsqlParameter<long>("token", leaseToken));
            command.Parameters.Add(new NpgsqlParameter<short>("state", (short)state));
            command.Parameters.Add(Time("now", now));
            command.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)error ?? DBNull.Value });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }).ConfigureAwait(false);
    }

    /// <summary>Runs one sweep statement; each returns how many rows it changed as its only value.</summary>
    private async Task<int> SweepAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using NpgsqlCommand command = new(sql, connection, transaction) { CommandTimeout = _commandTimeoutSeconds };
        command.Parameters.Add(Time("now", now));
        command.Parameters.Add(new NpgsqlParameter<string>("prefix", LeaseExpiredMessage.Prefix));
        command.Parameters.Add(new NpgsqlParameter<string>("suffix", LeaseExpiredMessage.Suffix));
        command.Parameters.Add(new NpgsqlParameter<string>("channel", Channel));
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private NpgsqlCommand Command(string sql)
    {
        NpgsqlCommand command = _dataSource.CreateCommand(sql);
        command.CommandTimeout = _commandTimeoutSeconds;
        return command;
    }

    /// <summary>Server and connection failures become <see cref="TaskStoreException"/>s that name the server and schema.</summary>
    private async Task<T> Translate<T>(Func<Task<T>> operation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            // Cancellation by the caller's token arrives as OperationCanceledException and passes through.
            throw new TaskStoreException($"The PostgreSQL task store {_description} failed: {e.Message}", e);
        }
    }

    private async Task Translate(Func<Task> operation) =>
        _ = await Translate(async () =>
        {
            await operation().ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);

    /// <summary>The statements, with the schema filled in once.</summary>
    private sealed class Sql
    {
        public Sql(string schema, bool synchronousWorkerCommits)
        {
            // See PostgreSqlTaskStoreOptions.SynchronousWorkerCommits. Sweeps run in an explicit transaction and use SET LOCAL;
            // single statements join a one-row set_config(…, is_local: true) instead, which lasts for their own implicit
            // transaction (SET LOCAL there would log a WARNING on the server for every write).
            string worker = synchronousWorkerCommits ? "" : "SET LOCAL synchronous_commit TO OFF;\n";
            string asyncFrom = synchronousWorkerCommits ? "" : " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit";
            string asyncJoin = synchronousWorkerCommits ? "" : ", (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit";
            Tasks = schema + ".tasks";
            Insert =
                $"INSERT INTO {Tasks} (queue, state, payload, priority, max_attempts, enqueued_at, run_at, unique_key, trace_parent) " +
                "VALUES (@queue, 0, @payload, @priority, @max_attempts, @enqueued_at, @run_at, @unique_key, @trace_parent) " +
                "ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id;";
            FindUniqueKey = $"SELECT id FROM {Tasks} WHERE unique_key = @unique_key;";
            // The sequence is looked up once per batch, not once per row.
            NextIds = $"SELECT nextval(q.s) FROM (SELECT pg_get_serial_sequence('{Tasks}', 'id')::regclass AS s) AS q, generate_series(1, @count) ORDER BY 1;";
            Copy = $"COPY {Tasks} (id, queue, state, payload, priority, max_attempts, enqueued_at, run_at, trace_parent) FROM STDIN (FORMAT BINARY)";
            Notify = "SELECT pg_notify(@channel, q) FROM unnest(@queues) AS q;";
            // Claims always wait for the flush: a claim a crash forgot would hand out the same lease token twice.
            Claim =
                $"""
                WITH next AS (
                    SELECT id FROM {Tasks}
                    WHERE queue = @queue AND state = 0 AND run_at <= @now
                    ORDER BY priority DESC, run_at, id
                    LIMIT @limit
                    FOR UPDATE SKIP LOCKED)
                UPDATE {Tasks} t
                SET state = 1, attempts = t.attempts + 1, lease_token = t.lease_token + 1, lease_expires_at = @expires, leased_by = @worker
                FROM next WHERE t.id = next.id
                RETURNING {PostgreSqlRows.LeasedColumns};
                """;
            Heartbeat =
                $"UPDATE {Tasks} SET lease_expires_at = @expires, progress = COALESCE(@progress, progress){asyncFrom} " +
                "WHERE id = @id AND state = 1 AND lease_token = @token RETURNING cancel_requested;";
            Finish =
                $"UPDATE {Tasks} SET state = @state, lease_expires_at = NULL, finished_at = @now, last_error = COALESCE(@error, last_error){asyncFrom} " +
                "WHERE id = @id AND state = 1 AND lease_token = @token;";

            CompleteMany =
                $"UPDATE {Tasks} t SET state = 2, lease_expires_at = NULL, finished_at = @now " +
                $"FROM unnest(@ids, @tokens) AS c(id, token){asyncJoin} WHERE t.id = c.id AND t.state = 1 AND t.lease_token = c.token RETURNING t.id;";

            // A pending cancel request ends the task instead of scheduling the retry. SET expressions read the row as it was.
            Retry =
                $"""
                UPDATE {Tasks} SET
                    state = CASE WHEN cancel_requested THEN 4 ELSE 0 END,
                    run_at = CASE WHEN cancel_requested THEN run_at ELSE @run_at END,
                    finished_at = CASE WHEN cancel_requested THEN @now ELSE finished_at END,
                    lease_expires_at = NULL,
                    last_error = @error{asyncFrom}
                WHERE id = @id AND state = 1 AND lease_token = @token;
                """;

            // The attempt is given back; a pending cancel request ends the task instead of queuing it again.
            Release =
                $"""
                WITH released AS (
                    UPDATE {Tasks} SET
                        state = CASE WHEN cancel_requested THEN 4 ELSE 0 END,
                        run_at = CASE WHEN cancel_requested THEN run_at ELSE @now END,
                        finished_at = CASE WHEN cancel_requested THEN @now ELSE finished_at END,
                        lease_expires_at = NULL,
                        attempts = GREATEST(0, attempts - 1){asyncFrom}
                    WHERE id = @id AND state = 1 AND lease_token = @token
                    RETURNING queue, state),
                notified AS (SELECT pg_notify(@channel, queue) FROM released WHERE state = 0)
                SELECT (SELECT count(*) FROM released) + 0 * (SELECT count(*) FROM notified);
                """;
            Cancel =
                $"""
                WITH current AS (SELECT id, state FROM {Tasks} WHERE id = @id FOR UPDATE),
                changed AS (
                    UPDATE {Tasks} t SET
                        state = CASE WHEN c.state = 0 THEN 4 ELSE t.state END,
                        finished_at = CASE WHEN c.state = 0 THEN @now ELSE t.finished_at END,
                        cancel_requested = CASE WHEN c.state = 1 THEN true ELSE t.cancel_requested END
                    FROM current c WHERE t.id = c.id AND c.state IN (0, 1))
                SELECT state FROM current;
                """;

            const string Expired = "state = 1 AND lease_expires_at <= @now";
            const string LeaseExpiredError = "@prefix || COALESCE(leased_by, '') || @suffix";
            SweepCanceled = worker +
                $"WITH swept AS (UPDATE {Tasks} SET state = 4, lease_expires_at = NULL, finished_at = @now WHERE {Expired} AND cancel_requested RETURNING 1) " +
                "SELECT count(*) FROM swept;";
            SweepDeadLettered = worker +
                $"WITH swept AS (UPDATE {Tasks} SET state = 3, lease_expires_at = NULL, finished_at = @now, last_error = {LeaseExpiredError} " +
                $"WHERE {Expired} AND attempts >= max_attempts RETURNING 1) SELECT count(*) FROM swept;";

            // Requeued tasks are due now: wake the listeners of their queues (on commit).
            SweepRequeued = worker +
                $"""
                WITH swept AS (
                    UPDATE {Tasks} SET state = 0, lease_expires_at = NULL, run_at = @now, last_error = {LeaseExpiredError}
                    WHERE {Expired} RETURNING queue),
                notified AS (SELECT pg_notify(@channel, queue) FROM (SELECT DISTINCT queue FROM swept) AS q)
                SELECT (SELECT count(*) FROM swept) + 0 * (SELECT count(*) FROM notified);
                """;
            Get = $"SELECT {PostgreSqlRows.SnapshotColumns} FROM {Tasks} WHERE id = @id;";
            Redrive =
                $"""
                WITH redriven AS (
                    UPDATE {Tasks} SET state = 0, attempts = 0, run_at = @now, finished_at = NULL, cancel_requested = false, lease_expires_at = NULL
                    WHERE id = @id AND state = 3 RETURNING queue),
                notified AS (SELECT pg_notify(@channel, queue) FROM redriven)
                SELECT (SELECT count(*) FROM redriven) + 0 * (SELECT count(*) FROM notified);
                """;
            RedriveQueue =
                $"""
                WITH redriven AS (
                    UPDATE {Tasks} SET state = 0, attempts = 0, run_at = @now, finished_at = NULL, cancel_requested = false, lease_expires_at = NULL
                    WHERE queue = @queue AND state = 3 RETURNING id),
                notified AS (SELECT pg_notify(@channel, @queue) WHERE EXISTS (SELECT 1 FROM redriven))
                SELECT (SELECT count(*) FROM redriven) + 0 * (SELECT count(*) FROM notified);
                """;
            Prune =
                $"DELETE FROM {Tasks} WHERE finished_at IS NOT NULL AND " +
                "((state IN (2, 4) AND finished_at < @finished_before) OR (state = 3 AND finished_at < @dead_lettered_before));";
            Statistics =
                $"""
                SELECT queue,
                    count(*) FILTER (WHERE state = 0 AND run_at <= @now),
                    count(*) FILTER (WHERE state = 0 AND run_at > @now),
                    count(*) FILTER (WHERE state = 1),
                    count(*) FILTER (WHERE state = 1 AND lease_expires_at <= @now),
                    count(*) FILTER (WHERE state = 2),
                    count(*) FILTER (WHERE state = 3),
                    count(*) FILTER (WHERE state = 4),
                    min(run_at) FILTER (WHERE state = 0 AND run_at <= @now)
                FROM {Tasks} GROUP BY queue;
                """;
        }

        public string Tasks { get; }

        public string Insert { get; }

        public string FindUniqueKey { get; }

        public string NextIds { get; }

        public string Copy { get; }

        public string Notify { get; }

        public string Claim { get; }

        public string Heartbeat { get; }

        public string Finish { get; }

        public string CompleteMany { get; }

        public string Retry { get; }

        public string Release { get; }

        public string Cancel { get; }

        public string SweepCanceled { get; }

        public string SweepDeadLettered { get; }

        public string SweepRequeued { get; }

        public string Get { get; }

        public string Redrive { get; }

        public string RedriveQueue { get; }

        public string Prune { get; }

        public string Statistics { get; }
    }
}
