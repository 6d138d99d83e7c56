using BuildingBlocks.Sqlite;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>
/// A durable <see cref="ISagaStore"/> in one SQLite file: sagas and their history survive restarts, and every process
/// on the machine that opens the same file shares them safely (leases and fencing tokens hold across processes). Works
/// without DI: <c>new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = "sagas.db" }, TimeProvider.System)</c>.
/// </summary>
/// <remarks>
/// <para>
/// The store keeps one writer connection with prepared statements, used under an async lock; writes run in
/// <c>BEGIN IMMEDIATE</c> transactions, so writers in different processes queue for the file's write lock instead of
/// deadlocking, and a busy file is waited for up to <see cref="SqliteSagaStoreOptions.BusyTimeout"/>. Writes that
/// arrive while a transaction is in progress are committed together by the next one (group commit: one WAL append and,
/// with <see cref="SqliteSagaSynchronous.Full"/>, one fsync for all of them), each in its own savepoint: a call returns
/// only once its write is committed, each caller gets its own fenced result, and a write that fails undoes only itself.
/// Reads (<see cref="GetAsync"/>, <see cref="GetEventsAsync"/>, <see cref="QueryAsync"/>, <see cref="CountByStatusAsync"/>)
/// use separate pooled connections and never wait for writers (WAL mode).
/// </para>
/// <para>
/// The schema is created on first use and versioned with <c>PRAGMA user_version</c>; a file of a newer version, or one
/// that is not a saga store, is refused with an <see cref="InvalidOperationException"/> and left unchanged. SQLite
/// failures surface as <see cref="InvalidOperationException"/>s naming the file, with the <see cref="SqliteException"/> inside.
/// </para>
/// <para>
/// Ids are compared and ordered by their UTF-8 bytes (SQLite <c>BINARY</c>), which is UTF-16 ordinal order except
/// between characters U+E000–U+FFFF and characters outside the Basic Multilingual Plane.
/// </para>
/// </remarks>
public sealed class SqliteSagaStore : ISagaStore, IAsyncDisposable, IDisposable
{
    /// <summary>The schema version this version of the package writes (kept in <c>PRAGMA user_version</c>).</summary>
    public const int SchemaVersion = SqliteSagaSchema.Version;

    private const int MaxPooledReaders = 8;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentQueue<PendingWrite> _pendingWrites = new();
    private readonly ConcurrentBag<SqliteConnection> _readers = [];
    private readonly TimeProvider _timeProvider;
    private readonly string _connectionString;
    private readonly TimeSpan _busyTimeout;
    private readonly int _commandTimeoutSeconds;
    private readonly int _maxWritesPerTransaction;
    private readonly SqliteSagaSynchronous _synchronous;
    private SagaWriter? _writer;
    private volatile bool _schemaReady;
    private volatile bool _disposed;

    /// <summary>Creates a store on the system clock. Nothing is opened until the first call.</summary>
    /// <param name="options">Where the file is, how durable commits are and how long to wait for the file.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public SqliteSagaStore(SqliteSagaStoreOptions options)
        : this(options, TimeProvider.System)
    {
    }

    /// <summary>Creates a store. Nothing is opened until the first call.</summary>
    /// <param name="options">Where the file is, how durable commits are and how long to wait for the file.</param>
    /// <param name="timeProvider">The clock for lease expiry ("now" in acquisitions, renewals and transitions).</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public SqliteSagaStore(SqliteSagaStoreOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var validation = new SqliteSagaStoreOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _timeProvider = timeProvider;
        _busyTimeout = options.BusyTimeout;
        _synchronous = options.Synchronous;
        _maxWritesPerTransaction = options.MaxWritesPerTransaction;
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
    public ValueTask<bool> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(saga);
        ArgumentNullException.ThrowIfNull(events);
        ThrowIfNull(saga.Id, "SagaRecord.Id", nameof(saga));
        ThrowIfNull(saga.Name, "SagaRecord.Name", nameof(saga));
        ThrowIfNull(saga.Data, "SagaRecord.Data", nameof(saga));
        ThrowIfNull(saga.Progress, "SagaRecord.Progress", nameof(saga));
        ThrowIfAnyNull(events, nameof(events));
        return WriteAsync((saga, events), static (writer, s, _) => writer.Create(s.saga, s.events), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> CheckpointAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ThrowIfNull(checkpoint.SagaId, "SagaCheckpoint.SagaId", nameof(checkpoint));
        ThrowIfNull(checkpoint.LeaseOwner, "SagaCheckpoint.LeaseOwner", nameof(checkpoint));
        ThrowIfNull(checkpoint.Data, "SagaCheckpoint.Data", nameof(checkpoint));
        ThrowIfNull(checkpoint.Progress, "SagaCheckpoint.Progress", nameof(checkpoint));
        ThrowIfNull(checkpoint.Events, "SagaCheckpoint.Events", nameof(checkpoint));
        ThrowIfAnyNull(checkpoint.Events, nameof(checkpoint));
        return WriteAsync(checkpoint, static (writer, checkpoint, _) => writer.Checkpoint(checkpoint), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<SagaRecord>> AcquireAsync(
        string owner, IReadOnlyCollection<string> names, int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        if (names.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new ValueTask<IReadOnlyList<SagaRecord>>([]);
        }

        string namesJson = SagaWriter.ToJsonArray(names);
        return WriteAsync(
            (owner, namesJson, maxCount, leaseDuration),
            static (writer, s, now) => (IReadOnlyList<SagaRecord>)writer.Acquire(s.owner, s.namesJson, s.maxCount, now, now + s.leaseDuration),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(leases);
        ThrowIfAnyIdNull(leases);
        if (leases.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new ValueTask<IReadOnlyList<string>>([]);
        }

        return WriteAsync(
            (owner, leases, leaseDuration),
            static (writer, s, now) => (IReadOnlyList<string>)writer.Renew(s.owner, s.leases, now + s.leaseDuration),
            cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask ReleaseLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(leases);
        ThrowIfAnyIdNull(leases);
        if (leases.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed, this);
            return;
        }

        _ = await WriteAsync((owner, leases), static (writer, s, _) => writer.Release(s.owner, s.leases), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<bool> TransitionAsync(SagaTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        ThrowIfNull(transition.SagaId, "SagaTransition.SagaId", nameof(transition));
        ThrowIfNull(transition.Events, "SagaTransition.Events", nameof(transition));
        ThrowIfAnyNull(transition.Events, nameof(transition));
        return WriteAsync(transition, static (writer, transition, now) => writer.Transition(transition, now), cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The row holds a value no version of this library writes, or the file cannot be read.</exception>
    public ValueTask<SagaRecord?> GetAsync(string sagaId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        return ReadAsync(
            (sagaId, DatabasePath),
            static (connection, s) =>
            {
                using SqliteCommand command = connection.CreateCommand();
                command.CommandText = $"SELECT {SagaRows.SagaColumns} FROM {SagaRows.SagaFrom} WHERE s.id = $id;";
                command.Parameters.AddWithValue("$id", s.sagaId);
                using SqliteDataReader reader = command.ExecuteReader();
                return reader.Read() ? SagaRows.ReadSaga(reader, s.DatabasePath) : null;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A line holds a value no version of this library writes, or the file cannot be read.</exception>
    public ValueTask<IReadOnlyList<SagaEvent>> GetEventsAsync(string sagaId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        return ReadAsync(
            (sagaId, DatabasePath),
            static (connection, s) =>
            {
                using SqliteCommand command = connection.CreateCommand();
                command.CommandText = $"SELECT {SagaRows.EventColumns} FROM saga_events WHERE saga_id = $id ORDER BY sequence;";
                command.Parameters.AddWithValue("$id", s.sagaId);
                List<SagaEvent> events = [];
                using SqliteDataReader reader = command.ExecuteReader();
                while (reader.Read())
                {
                    events.Add(SagaRows.ReadEvent(reader, s.sagaId, s.DatabasePath));
                }

                return (IReadOnlyList<SagaEvent>)events;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A row of the page holds a value no version of this library writes, or the file cannot be read.</exception>
    public ValueTask<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit <= 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new ValueTask<IReadOnlyList<SagaRecord>>([]);
        }

        return ReadAsync(
            (query, DatabasePath),
            static (connection, s) =>
            {
                SagaQuery query = s.query;
                using SqliteCommand command = connection.CreateCommand();
                var sql = new StringBuilder("SELECT ").Append(SagaRows.SagaColumns).Append(" FROM ").Append(SagaRows.SagaFrom).Append(" WHERE 1 = 1");
                if (query.AfterId is not null)
                {
                    sql.Append(" AND s.id > $after");
                    command.Parameters.AddWithValue("$after", query.AfterId);
                }

                if (query.Statuses is { Count: > 0 } statuses)
                {
                    // Literals, not parameters: SQLite uses the status index for a literal list.
                    sql.Append(" AND s.status IN (")
                        .AppendJoin(", ", statuses.Distinct().Select(status => ((int)status).ToString(CultureInfo.InvariantCulture)))
                        .Append(')');
                }

                if (query.Name is not null)
                {
                    sql.Append(" AND s.name = $name");
                    command.Parameters.AddWithValue("$name", query.Name);
                }

                sql.Append(" ORDER BY s.id LIMIT $limit;");
                command.Parameters.AddWithValue("$limit", query.Limit);
                command.CommandText = sql.ToString();
                List<SagaRecord> page = [];
                using SqliteDataReader reader = command.ExecuteReader();
                while (reader.Read())
                {
                    page.Add(SagaRows.ReadSaga(reader, s.DatabasePath));
                }

                return (IReadOnlyList<SagaRecord>)page;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken) =>
        ReadAsync(
            0,
            static (connection, _) =>
            {
                using SqliteCommand command = connection.CreateCommand();
                command.CommandText = "SELECT status, COUNT(*) FROM sagas GROUP BY status;";
                var counts = new Dictionary<SagaStatus, long>();
                using SqliteDataReader reader = command.ExecuteReader();
                while (reader.Read())
                {
                    counts[(SagaStatus)(int)reader.GetInt64(0)] = reader.GetInt64(1);
                }

                return (IReadOnlyDictionary<SagaStatus, long>)counts;
            },
            cancellationToken);

    /// <summary>Closes the file once the write in progress, if any, has finished. Calls after this throw <see cref="ObjectDisposedException"/>.</summary>
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

        FailQueuedWrites();
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

        FailQueuedWrites();
        CloseReaders();
    }

    /// <summary>
    /// Runs one write in a <c>BEGIN IMMEDIATE</c> transaction and returns once it is committed. Writes that arrive while
    /// a transaction is in progress queue up and the next holder of the in-process lock commits them together (group
    /// commit), each in its own savepoint, so anything one write throws undoes only that write. The clock is read once
    /// per transaction.
    /// </summary>
    private async ValueTask<TResult> WriteAsync<TState, TResult>(TState state, Func<SagaWriter, TState, DateTimeOffset, TResult> operation, CancellationToken cancellationToken)
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

    /// <summary>Takes up to <see cref="SqliteSagaStoreOptions.MaxWritesPerTransaction"/> queued writes and commits them in one transaction (under the write lock).</summary>
    private async ValueTask CommitPendingWritesAsync()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < _maxWritesPerTransaction && _pendingWrites.TryDequeue(out PendingWrite? queued))
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
            FailAll(batch, new ObjectDisposedException(nameof(SqliteSagaStore)));
            return;
        }

        // Waiting for the file lock can be canceled only by a lone write's caller; a group waits up to BusyTimeout.
        CancellationToken lockWait = batch.Count == 1 ? batch[0].CancellationToken : CancellationToken.None;
        SagaWriter writer;
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
                if (!isolate || _writer is null || !SqliteTransactions.InTransaction(writer.Connection))
                {
                    // The whole transaction is gone (a lone write, or an error that made SQLite roll back or the
                    // connection unusable): none of its writes happened.
                    SqliteTransactions.RollbackQuietly(writer.Connection);
                    write.Fail(error);
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

    /// <summary>SQLite errors become <see cref="InvalidOperationException"/>s naming the file; an error that leaves the connection in doubt closes it.</summary>
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

    /// <summary>Writes still queued when the store closes (their callers wait for a lock nobody will commit them under) fail.</summary>
    private void FailQueuedWrites()
    {
        while (_pendingWrites.TryDequeue(out PendingWrite? queued))
        {
            if (queued.TryTake())
            {
                queued.Fail(new ObjectDisposedException(nameof(SqliteSagaStore)));
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
    private async ValueTask<SagaWriter> OpenWriterAsync(CancellationToken cancellationToken)
    {
        CreateDirectory();
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {((long)_busyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)};");
            await SqliteSagaSchema.InitializeAsync(connection, DatabasePath, _busyTimeout, cancellationToken).ConfigureAwait(false);

            // WAL + FULL (the default): every commit is fsynced before the call returns; group commit shares the fsync.
            // A 16 MiB page cache keeps the acquire index and recent rows in memory; the acquire sort stays in memory.
            Execute(connection, $"PRAGMA synchronous = {(int)_synchronous}; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;");
            _writer = new SagaWriter(connection, _commandTimeoutSeconds, DatabasePath);
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
                throw new InvalidOperationException($"The directory '{directory}' of the SQLite saga store '{DatabasePath}' could not be created ({ex.Message}).", ex);
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

    private static void ThrowIfNull(object? value, string what, string paramName)
    {
        if (value is null)
        {
            throw new ArgumentException($"{what} is null; it is required.", paramName);
        }
    }

    private static void ThrowIfAnyNull<T>(IReadOnlyList<T> items, string paramName)
        where T : class
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is null)
            {
                throw new ArgumentException($"History line {i} is null.", paramName);
            }
        }
    }

    private static void ThrowIfAnyIdNull(IReadOnlyList<SagaLease> leases)
    {
        for (int i = 0; i < leases.Count; i++)
        {
            if (leases[i].SagaId is null)
            {
                throw new ArgumentException($"Lease {i} has no saga id (SagaLease.SagaId is null).", nameof(leases));
            }
        }
    }
}
