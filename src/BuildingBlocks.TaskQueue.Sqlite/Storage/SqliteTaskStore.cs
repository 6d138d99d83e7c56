using BuildingBlocks.Sqlite;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.TaskQueue.Sqlite;

/// <summary>
/// A durable <see cref="ITaskStore"/> in one SQLite file: tasks survive restarts, and every process on the machine
/// that opens the same file shares the queue safely. Works without DI:
/// <c>new SqliteTaskStore(new SqliteTaskStoreOptions { DataSource = "tasks.db" }, TimeProvider.System)</c>.
/// </summary>
/// <remarks>
/// <para>
/// The store keeps one writer connection with prepared statements, used under an async lock; writes run in
/// <c>BEGIN IMMEDIATE</c> transactions, so writers in different processes queue for the file's write lock instead of
/// deadlocking, and a busy file is waited for up to <see cref="SqliteTaskStoreOptions.BusyTimeout"/>. Writes that
/// arrive while a transaction is in progress are committed together by the next one (group commit), each in its own
/// savepoint: a call returns only once its write is committed, and a write that fails undoes only itself. Reads
/// (<see cref="GetAsync"/>, <see cref="ListAsync"/>, <see cref="GetStatisticsAsync"/>) use separate connections and
/// never wait for writers (WAL mode).
/// </para>
/// <para>
/// The schema is created on first use and versioned with <c>PRAGMA user_version</c>; a file of a newer version, or one
/// that is not a task store, is refused with a <see cref="TaskStoreException"/> and left unchanged.
/// </para>
/// </remarks>
public sealed class SqliteTaskStore : ITaskStore, IAsyncDisposable, IDisposable
{
    /// <summary>The schema version this version of the package writes (kept in <c>PRAGMA user_version</c>).</summary>
    public const int SchemaVersion = SqliteSchema.Version;

    private const int MaxPooledReaders = 8;

    /// <summary>The most queued writes one transaction commits, so a long queue cannot hold the file lock for long.</summary>
    private const int MaxWritesPerTransaction = 256;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentQueue<PendingWrite> _pendingWrites = new();
    private readonly ConcurrentBag<SqliteConnection> _readers = [];
    private readonly TimeProvider _timeProvider;
    private readonly string _connectionString;
    private readonly TimeSpan _busyTimeout;
    private readonly int _commandTimeoutSeconds;
    private readonly SqliteSynchronous _synchronous;
    private TaskWriter? _writer;
    private volatile bool _schemaReady;
    private volatile bool _disposed;

    /// <summary>Creates a store on the system clock. Nothing is opened until the first call.</summary>
    /// <param name="options">Where the file is and how long to wait for it.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public SqliteTaskStore(SqliteTaskStoreOptions options)
        : this(options, TimeProvider.System)
    {
    }

    /// <summary>Creates a store. Nothing is opened until the first call.</summary>
    /// <param name="options">Where the file is and how long to wait for it.</param>
    /// <param name="timeProvider">The clock for enqueue, run-at and lease times; the client and workers must use the same one.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public SqliteTaskStore(SqliteTaskStoreOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var validation = new SqliteTaskStoreOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _timeProvider = timeProvider;
        _busyTimeout = options.BusyTimeout;
        _synchronous = options.Synchronous;
        _commandTimeoutSeconds = (int)Math.Min(int.MaxValue, Math.Max(1, Math.Ceiling(_busyTimeout.TotalSeconds)));

        var builder = options.ConnectionString is null
            ? new SqliteConnectionStringBuilder { DataSource = options.DataSource }
            : new SqliteConnectionStringBuilder(options.ConnectionString);
        if (!builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            // Absolute, so the store keeps using the same file if the process changes its current directory.
            builder.DataSource = Path.GetFullPath(builder.DataSource);
        }

        // The store manages its own long-lived connections: pooling would only keep closed files open.
        builder.Pooling = false;
        builder.DefaultTimeout = _commandTimeoutSeconds;
        DatabasePath = builder.DataSource;
        _connectionString = builder.ToString();
    }

    /// <summary>The database file (an absolute path, or the URI the connection string gave).</summary>
    public string DatabasePath { get; }

    /// <summary>The writer connection once open (tests read its pragmas while the store is idle).</summary>
    internal SqliteConnection? WriterConnection => _writer?.Connection;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (tasks.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<IReadOnlyList<EnqueueResult>>([]);
        }

        return WriteAsync(
            (tasks, cancellationToken),
            static (writer, state, _) =>
            {
                // One transaction: a failure or a cancellation anywhere rolls back the whole batch.
                var results = new EnqueueResult[state.tasks.Count];
                for (int i = 0; i < results.Length; i++)
                {
                    state.cancellationToken.ThrowIfCancellationRequested();
                    TaskInsert insert = state.tasks[i];
                    ArgumentNullException.ThrowIfNull(insert, nameof(tasks));
                    results[i] = writer.Insert(insert);
                }

                return (IReadOnlyList<EnqueueResult>)results;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeasedTask>> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request.Queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxCount, 1);
        for (int quarantined = 0; ; quarantined++)
        {
            try
            {
                return await WriteAsync(
                    request,
                    static (writer, request, now) => (IReadOnlyList<LeasedTask>)writer.Claim(request, now, now + request.LeaseDuration),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (CorruptTaskException e) when (e.TaskId > 0 && quarantined < MaxQuarantinedPerClaim)
            {
                // The claim rolled back. A damaged row must not block its queue: dead-letter it with the reason
                // (its other columns stay as they are, for an operator to repair and redrive), then claim again.
                await WriteAsync(
                    (e.TaskId, Error: $"{nameof(CorruptTaskException)}: {e.Message}"),
                    static (writer, s, now) => writer.Quarantine(s.TaskId, s.Error, now),
                    cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>How many damaged rows one claim dead-letters before it gives up and reports the next one.</summary>
    private const int MaxQuarantinedPerClaim = 100;

    /// <inheritdoc />
    public ValueTask<LeaseStatus> HeartbeatAsync(long taskId, long leaseToken, TimeSpan leaseDuration, string? progress, CancellationToken cancellationToken) =>
        WriteAsync(
            (taskId, leaseToken, leaseDuration, progress),
            static (writer, s, now) => writer.Heartbeat(s.taskId, s.leaseToken, now + s.leaseDuration, s.progress),
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> CompleteAsync(long taskId, long leaseToken, CancellationToken cancellationToken) =>
        FinishAsync(taskId, leaseToken, TaskState.Completed, error: null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> AcknowledgeCancelAsync(long taskId, long leaseToken, CancellationToken cancellationToken) =>
        FinishAsync(taskId, leaseToken, TaskState.Canceled, error: null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> FailAsync(long taskId, long leaseToken, TaskFailure failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure.Error);
        if (failure.RetryAt is not { } retryAt)
        {
            return FinishAsync(taskId, leaseToken, TaskState.DeadLettered, failure.Error, cancellationToken);
        }

        return WriteAsync(
            (taskId, leaseToken, retryAt, failure.Error),
            static (writer, s, now) => writer.Retry(s.taskId, s.leaseToken, s.retryAt, s.Error, now),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> ReleaseAsync(long taskId, long leaseToken, CancellationToken cancellationToken) =>
        WriteAsync(
            (taskId, leaseToken),
            static (writer, s, now) => writer.Release(s.taskId, s.leaseToken, now),
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<CancelResult> CancelAsync(long taskId, CancellationToken cancellationToken) =>
        WriteAsync(taskId, static (writer, taskId, now) => writer.Cancel(taskId, now), cancellationToken);

    /// <inheritdoc />
    public ValueTask<SweepResult> RecoverExpiredLeasesAsync(CancellationToken cancellationToken) =>
        WriteAsync(0, static (writer, _, now) => writer.RecoverExpiredLeases(now), cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> RedriveAsync(long taskId, CancellationToken cancellationToken) =>
        WriteAsync(taskId, static (writer, taskId, now) => writer.Redrive(taskId, now), cancellationToken);

    /// <inheritdoc />
    public ValueTask<int> RedriveQueueAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return WriteAsync(queue, static (writer, queue, now) => writer.RedriveQueue(queue, now), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> PruneAsync(DateTimeOffset finishedBefore, DateTimeOffset deadLetteredBefore, CancellationToken cancellationToken) =>
        WriteAsync(
            (finishedBefore, deadLetteredBefore),
            static (writer, s, _) => writer.Prune(s.finishedBefore, s.deadLetteredBefore),
            cancellationToken);

    /// <inheritdoc />
    /// <exception cref="CorruptTaskException">The row holds a value no version of this library writes.</exception>
    public ValueTask<TaskSnapshot?> GetAsync(long taskId, CancellationToken cancellationToken) =>
        ReadAsync(
            taskId,
            static (connection, taskId) =>
            {
                using SqliteCommand command = connection.CreateCommand();
                command.CommandText = $"SELECT {TaskRows.SnapshotColumns} FROM tasks WHERE id = $id;";
                command.Parameters.AddWithValue("$id", taskId);
                using SqliteDataReader reader = command.ExecuteReader();
                return reader.Read() ? TaskRows.ReadSnapshot(reader) : null;
            },
            cancellationToken);

    /// <inheritdoc />
    /// <exception cref="CorruptTaskException">A row of the page holds a value no version of this library writes.</exception>
    public ValueTask<IReadOnlyList<TaskSnapshot>> ListAsync(TaskQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return ReadAsync(
            query,
            static (connection, query) =>
            {
                using SqliteCommand command = connection.CreateCommand();
                var sql = new StringBuilder("SELECT ")
                    .Append(query.IncludePayload ? TaskRows.SnapshotColumns : TaskRows.SnapshotColumnsWithoutPayload)
                    .Append(" FROM tasks WHERE id > $after");
                command.Parameters.AddWithValue("$after", query.AfterId);
                if (query.Queue is not null)
                {
                    sql.Append(" AND queue = $queue");
                    command.Parameters.AddWithValue("$queue", query.Queue);
                }

                if (query.State is { } state)
                {
                    // A literal, not a parameter: SQLite picks a partial index (dead letters, claims) only for a literal state.
                    sql.Append(" AND state = ").Append((int)state);
                }

                sql.Append(" ORDER BY id LIMIT $limit;");
                command.Parameters.AddWithValue("$limit", query.Limit);
                command.CommandText = sql.ToString();
                List<TaskSnapshot> page = [];
                using SqliteDataReader reader = command.ExecuteReader();
                while (reader.Read())
                {
                    page.Add(TaskRows.ReadSnapshot(reader));
                }

                return (IReadOnlyList<TaskSnapshot>)page;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<QueueStatistics>> GetStatisticsAsync(CancellationToken cancellationToken) =>
        ReadAsync(
            _timeProvider,
            static (connection, timeProvider) =>
            {
                SqliteTransactions.BeginRead(connection);
                try
                {
                    IReadOnlyList<QueueStatistics> statistics = StatisticsQuery.Read(connection, timeProvider.GetUtcNow());
                    SqliteTransactions.Commit(connection);
                    return statistics;
                }
                catch
                {
                    SqliteTransactions.RollbackQuietly(connection);
                    throw;
                }
            },
            cancellationToken);

    /// <summary>Closes the file. Calls after this throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _writeLock.Wait();
        try
        {
            CloseWriter();
        }
        finally
        {
            _writeLock.Release();
        }

        CloseReaders();
    }

    /// <summary>Closes the file once the write in progress, if any, has finished. Calls after this throw <see cref="ObjectDisposedException"/>.</summary>
    /// <returns>A task that completes when the file is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            CloseWriter();
        }
        finally
        {
            _writeLock.Release();
        }

        CloseReaders();
    }

    private ValueTask<bool> FinishAsync(long taskId, long leaseToken, TaskState state, string? error, CancellationToken cancellationToken) =>
        WriteAsync(
            (taskId, leaseToken, state, error),
            static (writer, s, now) => writer.Finish(s.taskId, s.leaseToken, s.state, now, s.error),
            cancellationToken);

    /// <summary>
    /// Runs one write in a <c>BEGIN IMMEDIATE</c> transaction and returns once it is committed. Writes that arrive while
    /// a transaction is in progress queue up and the next holder of the in-process lock commits them together (group
    /// commit: one WAL append for many small writes), each in its own savepoint, so anything one write throws undoes only
    /// that write. The clock is read once per transaction.
    /// </summary>
    private async ValueTask<TResult> WriteAsync<TState, TResult>(TState state, Func<TaskWriter, TState, DateTimeOffset, TResult> operation, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);
        var write = new PendingWrite<TState, TResult>(state, operation, cancellationToken);
        _pendingWrites.Enqueue(write);
        bool locked = false;
        try
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            locked = true;
        }
        catch (OperationCanceledException) when (write.TryAbandon())
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            // A transaction already took the write: its outcome, not the cancellation, is the answer.
        }

        if (locked)
        {
            try
            {
                while (!write.IsCompleted)
                {
                    await CommitPendingWritesAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }

        return await write.Task.ConfigureAwait(false);
    }

    /// <summary>Takes up to <see cref="MaxWritesPerTransaction"/> queued writes and commits them in one transaction (under the write lock).</summary>
    private async ValueTask CommitPendingWritesAsync()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < MaxWritesPerTransaction && _pendingWrites.TryDequeue(out PendingWrite? queued))
        {
            if (!queued.TryTake())
            {
                continue;
            }

            if (queued.CancellationToken.IsCancellationRequested)
            {
                queued.Cancel();
            }
            else
            {
                batch.Add(queued);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        if (_disposed)
        {
            FailAll(batch, new ObjectDisposedException(nameof(SqliteTaskStore)));
            return;
        }

        // Waiting for the file lock can be canceled only by a lone write's caller; a group waits up to BusyTimeout.
        CancellationToken lockWait = batch.Count == 1 ? batch[0].CancellationToken : CancellationToken.None;
        TaskWriter writer;
        try
        {
            writer = _writer ?? await OpenWriterAsync(lockWait).ConfigureAwait(false);
            await SqliteTransactions.BeginImmediateAsync(writer.Connection, DatabasePath, _busyTimeout, lockWait).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lockWait.IsCancellationRequested)
        {
            batch[0].Cancel();
            return;
        }
        catch (Exception e)
        {
            FailAll(batch, TranslateWriteError(e));
            return;
        }

        DateTimeOffset now = _timeProvider.GetUtcNow();
        bool isolate = batch.Count > 1;
        var ran = new List<PendingWrite>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            PendingWrite write = batch[i];
            try
            {
                if (isolate)
                {
                    SqliteTransactions.Savepoint(writer.Connection);
                }

                write.Run(writer, now);
                if (isolate)
                {
                    SqliteTransactions.ReleaseSavepoint(writer.Connection);
                }

                ran.Add(write);
            }
            catch (Exception e)
            {
                Exception error = TranslateWriteError(e);
                if (!isolate || !SqliteTransactions.InTransaction(writer.Connection) || _writer is null)
                {
                    // The whole transaction is gone (a lone write, or an error that made SQLite roll back or the
                    // connection unusable): none of its writes happened.
                    SqliteTransactions.RollbackQuietly(writer.Connection);
                    FailAll(batch, error);
                    return;
                }

                write.Fail(error);
                try
                {
                    SqliteTransactions.RollbackToSavepoint(writer.Connection);
                }
                catch (Exception rollbackError)
                {
                    SqliteTransactions.RollbackQuietly(writer.Connection);
                    FailAll(batch, TranslateWriteError(rollbackError));
                    return;
                }
            }
        }

        if (ran.Count == 0)
        {
            SqliteTransactions.RollbackQuietly(writer.Connection);
            return;
        }

        try
        {
            SqliteTransactions.Commit(writer.Connection);
        }
        catch (Exception e)
        {
            SqliteTransactions.RollbackQuietly(writer.Connection);
            FailAll(ran, TranslateWriteError(e));
            return;
        }

        foreach (PendingWrite write in ran)
        {
            write.Succeed();
        }
    }

    /// <summary>SQLite errors become <see cref="TaskStoreException"/>s naming the file; an error that leaves the connection in doubt closes it.</summary>
    private Exception TranslateWriteError(Exception exception)
    {
        if (exception is not SqliteException sqliteException)
        {
            return exception;
        }

        if (SqliteErrors.ClosesConnection(sqliteException))
        {
            if (_writer is { } writer)
            {
                SqliteTransactions.RollbackQuietly(writer.Connection);
            }

            CloseWriter();
        }

        return SqliteErrors.Translate(sqliteException, DatabasePath, _busyTimeout);
    }

    private static void FailAll(List<PendingWrite> writes, Exception error)
    {
        foreach (PendingWrite write in writes)
        {
            if (!write.IsCompleted)
            {
                write.Fail(error);
            }
        }
    }

    /// <summary>Runs one read on a pooled reader connection, after making sure the schema is there.</summary>
    private async ValueTask<TResult> ReadAsync<TState, TResult>(TState state, Func<SqliteConnection, TState, TResult> operation, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_schemaReady)
        {
            await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        }

        SqliteConnection? connection = null;
        try
        {
            connection = RentReader();
            TResult result = operation(connection, state);
            ReturnReader(connection);
            return result;
        }
        catch (SqliteException ex)
        {
            connection?.Dispose();
            throw SqliteErrors.Translate(ex, DatabasePath, _busyTimeout);
        }
        catch
        {
            // A bad row is not a bad connection.
            if (connection is not null)
            {
                ReturnReader(connection);
            }

            throw;
        }
    }

    private async ValueTask EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is null)
            {
                try
                {
                    _ = await OpenWriterAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (SqliteException ex)
                {
                    throw SqliteErrors.Translate(ex, DatabasePath, _busyTimeout);
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Opens the writer connection, checks or creates the schema and prepares the statements (under the write lock).</summary>
    private async ValueTask<TaskWriter> OpenWriterAsync(CancellationToken cancellationToken)
    {
        CreateDirectory();
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {((long)_busyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)};");
            await SqliteSchema.InitializeAsync(connection, DatabasePath, _busyTimeout, cancellationToken).ConfigureAwait(false);

            // WAL + NORMAL (the default): a commit survives a process crash at once and a power loss from the next
            // checkpoint on, with no fsync per commit. A 16 MiB page cache keeps the claim index and the tail of the
            // table in memory for large queues.
            Execute(connection, $"PRAGMA synchronous = {(int)_synchronous}; PRAGMA cache_size = -16384;");
            _writer = new TaskWriter(connection, _commandTimeoutSeconds);
            _schemaReady = true;
            return _writer;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void CreateDirectory()
    {
        if (DatabasePath.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        string? directory = Path.GetDirectoryName(DatabasePath);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new TaskStoreException($"The directory '{directory}' of the SQLite task store '{DatabasePath}' could not be created ({ex.Message}).", ex);
            }
        }
    }

    private SqliteConnection RentReader()
    {
        if (_readers.TryTake(out SqliteConnection? pooled))
        {
            return pooled;
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {((long)_busyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}; PRAGMA query_only = 1;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void ReturnReader(SqliteConnection connection)
    {
        if (_disposed || _readers.Count >= MaxPooledReaders)
        {
            connection.Dispose();
            return;
        }

        _readers.Add(connection);
        if (_disposed)
        {
            CloseReaders();
        }
    }

    private void CloseWriter()
    {
        _writer?.Dispose();
        _writer = null;
    }

    private void CloseReaders()
    {
        while (_readers.TryTake(out SqliteConnection? connection))
        {
            connection.Dispose();
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        _ = command.ExecuteNonQuery();
    }
}
