using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SQLitePCL;

namespace BuildingBlocks.Caching.Sqlite;

/// <summary>
/// A durable <see cref="IWriteBackJournal"/> in one SQLite file: a write-back write appended here survives a crash of the
/// process (SIGKILL included) as soon as <see cref="AppendAsync"/> completes, and is replayed by <see cref="ReadAsync"/>
/// at the next start. Works without DI: <c>new SqliteWriteBackJournal(new SqliteJournalOptions { Path = "journal.db" })</c>.
/// </summary>
/// <remarks>
/// <para>
/// The journal keeps only the newest write per cache and key. An append is an upsert that keeps the row with the higher
/// version, so a late append of an older write never replaces a newer one; a remove deletes a key's row only if its
/// version is not newer than the flushed one, so a write journaled while an older one was being flushed stays.
/// </para>
/// <para>
/// One writer thread owns the only writer connection and its prepared statements. Appends and removes queue up while it
/// runs a transaction; it then commits everything queued in one <c>BEGIN IMMEDIATE</c>…<c>COMMIT</c> (group commit) and
/// completes all of their tasks at once, so many concurrent callers cost one WAL append. The file is in WAL mode with
/// <c>synchronous = NORMAL</c>: a commit survives a process crash at once and a power loss or OS crash from the next
/// checkpoint on, with no fsync per commit. An operation the database refuses on its own fails alone; an error that
/// ends the transaction (a full disk, a damaged file) fails every operation in it, and none of them is journaled.
/// </para>
/// <para>
/// The schema is created on first use and versioned with <c>PRAGMA user_version</c>; a file that is not a journal, is
/// damaged, or has a newer version is refused with a <see cref="SqliteJournalException"/> naming the file, and left unchanged.
/// </para>
/// </remarks>
public sealed class SqliteWriteBackJournal : IWriteBackJournal, IAsyncDisposable, IDisposable
{
    /// <summary>The schema version this version of the package writes (kept in <c>PRAGMA user_version</c>).</summary>
    public const int SchemaVersion = JournalSchema.Version;

    /// <summary>The smallest list a new batch starts with; it starts as large as the previous batch, which tracks the concurrency.</summary>
    private const int MinBatchCapacity = 4;

    private readonly object _gate = new();
    private readonly string _connectionString;
    private readonly TimeSpan _busyTimeout;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _writerExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private JournalBatch _pending = new(MinBatchCapacity);
    private Thread? _thread;
    private bool _writerWaiting;
    private bool _stopping;

    // Writer thread only.
    private JournalWriter? _writer;
    private long _transactions;
    private long _operations;

    /// <summary>Creates a journal without logging. Nothing is opened until the first call.</summary>
    /// <param name="options">Where the file is and how long to wait for it.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public SqliteWriteBackJournal(SqliteJournalOptions options)
        : this(options, loggerFactory: null)
    {
    }

    /// <summary>Creates a journal. Nothing is opened until the first call.</summary>
    /// <param name="options">Where the file is and how long to wait for it.</param>
    /// <param name="loggerFactory">Creates the logger (category <c>BuildingBlocks.Caching.Sqlite</c>), or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public SqliteWriteBackJournal(SqliteJournalOptions options, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = new SqliteJournalOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _busyTimeout = options.BusyTimeout;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("BuildingBlocks.Caching.Sqlite");

        // Absolute, so the journal keeps using the same file if the process changes its current directory.
        DatabasePath = System.IO.Path.GetFullPath(options.Path!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,

            // The journal keeps its own long-lived writer connection: pooling would only keep closed files open.
            Pooling = false,
            DefaultTimeout = (int)Math.Min(int.MaxValue, Math.Max(1, Math.Ceiling(_busyTimeout.TotalSeconds))),
        }.ToString();
    }

    /// <summary>The journal file's absolute path.</summary>
    public string DatabasePath { get; }

    /// <summary>Transactions committed so far (tests check that concurrent appends share them).</summary>
    internal long TransactionCount => Volatile.Read(ref _transactions);

    /// <summary>Operations committed so far.</summary>
    internal long OperationCount => Volatile.Read(ref _operations);

    /// <summary>Runs on the writer thread each time the writer connection opens (tests lower SQLite limits with it).</summary>
    internal Action<sqlite3>? WriterOpened { get; set; }

    /// <inheritdoc />
    /// <remarks>
    /// The entry is journaled when the task completes. A cancellation stops the wait, not the write: once queued, the entry
    /// may still be journaled (replaying it is harmless, because a journal keeps only the newest version of a key).
    /// </remarks>
    /// <exception cref="ArgumentException">The entry has no cache name or no key.</exception>
    /// <exception cref="SqliteJournalException">The file could not be opened or written; the entry was not journaled.</exception>
    /// <exception cref="ObjectDisposedException">The journal was disposed.</exception>
    public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ValidateCacheName(entry.CacheName, nameof(entry));
        if (entry.Key is null)
        {
            throw new ArgumentException("The entry's Key is null; a journal entry needs the key's bytes.", nameof(entry));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        JournalBatch batch = Enqueue(JournalOperation.Append(entry), out int index);
        return WaitAsync(batch, index, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The keys are copied before the call returns, so the caller may reuse the list.</remarks>
    /// <exception cref="ArgumentException">The cache name is empty or a key is null.</exception>
    /// <exception cref="SqliteJournalException">The file could not be opened or written; nothing was removed.</exception>
    /// <exception cref="ObjectDisposedException">The journal was disposed.</exception>
    public ValueTask RemoveAsync(string cacheName, IReadOnlyList<JournalKeyVersion> flushed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cacheName);
        ValidateCacheName(cacheName, nameof(cacheName));
        ArgumentNullException.ThrowIfNull(flushed);
        var keys = new JournalKeyVersion[flushed.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = flushed[i];
            if (keys[i].Key is null)
            {
                throw new ArgumentException($"flushed[{i.ToString(CultureInfo.InvariantCulture)}].Key is null; each flushed key needs its bytes.", nameof(flushed));
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (keys.Length == 0)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _stopping), this);
            return ValueTask.CompletedTask;
        }

        JournalBatch batch = Enqueue(JournalOperation.Remove(cacheName, keys), out int index);
        return WaitAsync(batch, index, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads on a connection of its own after every operation queued before the call has been committed, so it sees every
    /// append that completed before it. Ties in version are ordered by key bytes.
    /// </remarks>
    /// <exception cref="ArgumentException">The cache name is empty.</exception>
    /// <exception cref="SqliteJournalException">The file is not a journal, is damaged or could not be read.</exception>
    /// <exception cref="ObjectDisposedException">The journal was disposed.</exception>
    public ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(string cacheName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cacheName);
        ValidateCacheName(cacheName, nameof(cacheName));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IReadOnlyList<JournalEntry>>(cancellationToken);
        }

        // A barrier through the writer: the file is opened and checked, and earlier writes are committed, before reading.
        JournalBatch batch = Enqueue(JournalOperation.Barrier(), out int index);
        return ReadAfterAsync(WaitAsync(batch, index, cancellationToken), cacheName);
    }

    /// <summary>Commits what is queued, then closes the file. Calls after this throw <see cref="ObjectDisposedException"/>.</summary>
    /// <returns>A task that completes when the file is closed.</returns>
    public async ValueTask DisposeAsync() => await Stop().ConfigureAwait(false);

    /// <summary>Commits what is queued, then closes the file (blocks until then). Calls after this throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => Stop().GetAwaiter().GetResult();

    private static void ValidateCacheName(string cacheName, string parameterName)
    {
        if (string.IsNullOrEmpty(cacheName))
        {
            throw new ArgumentException(
                cacheName is null ? "The cache name is null; journal entries are kept per cache name." : "The cache name is empty; journal entries are kept per cache name.",
                parameterName);
        }
    }

    /// <summary>Waits for the batch holding one operation; the batch's task is shared, so only this small state machine (pooled) is per call.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask WaitAsync(JournalBatch batch, int index, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            await batch.Done.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await batch.Done.ConfigureAwait(false);
        }

        if (batch.ErrorAt(index) is { } error)
        {
            throw error;
        }
    }

    private async ValueTask<IReadOnlyList<JournalEntry>> ReadAfterAsync(ValueTask barrier, string cacheName)
    {
        await barrier.ConfigureAwait(false);
        try
        {
            using var connection = new SqliteConnection(_connectionString);
            connection.Open();
            using (SqliteCommand pragmas = connection.CreateCommand())
            {
                pragmas.CommandText = $"PRAGMA busy_timeout = {((long)_busyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}; PRAGMA query_only = 1;";
                _ = pragmas.ExecuteNonQuery();
            }

            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "SELECT key, value, version FROM journal WHERE cache_name = $cache ORDER BY version, key;";
            command.Parameters.AddWithValue("$cache", cacheName);
            List<JournalEntry> entries = [];
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                byte[] key = reader.GetFieldValue<byte[]>(0);
                byte[]? value = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
                entries.Add(new JournalEntry(cacheName, key, value, reader.GetInt64(2)));
            }

            return entries;
        }
        catch (SqliteException e)
        {
            throw JournalErrors.Translate(e, DatabasePath, _busyTimeout);
        }
    }

    private JournalBatch Enqueue(JournalOperation operation, out int index)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            JournalBatch batch = _pending;
            index = batch.Add(operation);
            if (_thread is null)
            {
                // UnsafeStart: the writer serves every caller, so it must not keep the first caller's AsyncLocals (Activity.Current).
                _thread = new Thread(RunWriter) { IsBackground = true, Name = "BuildingBlocks.Caching.Sqlite journal writer" };
                _thread.UnsafeStart();
            }
            else if (_writerWaiting)
            {
                Monitor.Pulse(_gate);
            }

            return batch;
        }
    }

    private Task Stop()
    {
        lock (_gate)
        {
            if (!_stopping)
            {
                _stopping = true;
                if (_thread is null)
                {
                    _writerExited.TrySetResult();
                }
                else
                {
                    Monitor.Pulse(_gate);
                }
            }
        }

        return _writerExited.Task;
    }

    /// <summary>The writer thread: takes everything queued, commits it in one transaction, completes it; until stopped and drained.</summary>
    private void RunWriter()
    {
        try
        {
            while (true)
            {
                JournalBatch batch;
                lock (_gate)
                {
                    while (_pending.Count == 0 && !_stopping)
                    {
                        _writerWaiting = true;
                        Monitor.Wait(_gate);
                        _writerWaiting = false;
                    }

                    if (_pending.Count == 0)
                    {
                        break;
                    }

                    batch = _pending;
                    _pending = new JournalBatch(Math.Max(MinBatchCapacity, batch.Count));
                }

                try
                {
                    Commit(batch);
                }
#pragma warning disable CA1031 // The writer thread must outlive any failure: the batch's callers get it instead.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    FailTransaction(batch, e, batch.Count);
                }
            }
        }
        finally
        {
            CloseWriter();
            Log.JournalClosed(_logger, DatabasePath, _transactions, _operations);
            _writerExited.TrySetResult();
        }
    }

    private void Commit(JournalBatch batch)
    {
        List<JournalOperation> operations = batch.Operations;
        JournalWriter writer;
        try
        {
            writer = _writer ?? Open();
        }
#pragma warning disable CA1031 // Every failure to open goes to the callers, translated.
        catch (Exception e)
#pragma warning restore CA1031
        {
            SqliteJournalException error = JournalErrors.Translate(e, DatabasePath, _busyTimeout);
            Log.JournalOpenFailed(_logger, error, DatabasePath, operations.Count);
            batch.FailAll(error);
            return;
        }

        int writes = 0;
        foreach (JournalOperation operation in operations)
        {
            writes += operation.IsWrite ? 1 : 0;
        }

        if (writes == 0)
        {
            batch.Complete();
            return;
        }

        writer.Begin(DatabasePath, _busyTimeout);
        int refused = 0;
        for (int i = 0; i < operations.Count; i++)
        {
            JournalOperation operation = operations[i];
            int rc;
            if (operation.Entry is { } entry)
            {
                rc = writer.Append(entry);
            }
            else if (operation.Flushed is { } flushed)
            {
                rc = writer.Remove(operation.CacheName!, flushed);
            }
            else
            {
                continue;
            }

            if (rc == raw.SQLITE_DONE)
            {
                continue;
            }

            SqliteException failure = JournalErrors.Capture(writer.Db, rc);
            if (!JournalErrors.IsStatementOnly(rc) || !JournalTransactions.InTransaction(writer.Db))
            {
                FailTransaction(batch, failure, writes);
                return;
            }

            // The statement undid only itself: this operation fails alone, the others still commit.
            SqliteJournalException error = JournalErrors.Translate(failure, DatabasePath, _busyTimeout);
            Log.JournalOperationRefused(_logger, error, DatabasePath, operation.Entry is null ? "remove" : "append", operation.Entry?.CacheName ?? operation.CacheName!);
            batch.FailOne(i, error);
            refused++;
        }

        int commit = writer.Commit();
        if (commit != raw.SQLITE_DONE)
        {
            FailTransaction(batch, JournalErrors.Capture(writer.Db, commit), writes);
            return;
        }

        Volatile.Write(ref _transactions, _transactions + 1);
        Volatile.Write(ref _operations, _operations + writes - refused);
        batch.Complete();
    }

    /// <summary>Rolls back, closes a connection left in doubt, and fails every operation of the batch.</summary>
    private void FailTransaction(JournalBatch batch, Exception exception, int count)
    {
        if (_writer is { } writer)
        {
            JournalTransactions.Rollback(writer.Db);
            bool inDoubt = exception switch
            {
                SqliteException sqlite => JournalErrors.ClosesConnection(sqlite.SqliteErrorCode),
                SqliteJournalException => false,
                _ => true,
            };
            if (inDoubt)
            {
                CloseWriter();
            }
        }

        SqliteJournalException error = JournalErrors.Translate(exception, DatabasePath, _busyTimeout);
        Log.JournalTransactionFailed(_logger, error, DatabasePath, count);
        batch.FailAll(error);
    }

    /// <summary>Opens the writer connection, checks or creates the schema and prepares the statements (on the writer thread).</summary>
    private JournalWriter Open()
    {
        CreateDirectory();
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {((long)_busyTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)};");
            bool created = JournalSchema.Initialize(connection, DatabasePath, _busyTimeout);

            // WAL + NORMAL: a commit survives a process crash at once and a power loss from the next checkpoint on, with
            // no fsync per commit.
            Execute(connection, "PRAGMA synchronous = NORMAL;");
            var writer = new JournalWriter(connection);
            _writer = writer;
            WriterOpened?.Invoke(writer.Db);
            Log.JournalOpened(_logger, DatabasePath, SchemaVersion, created);
            return writer;
        }
        catch
        {
            _writer = null;
            connection.Dispose();
            throw;
        }
    }

    private void CreateDirectory()
    {
        string? directory = System.IO.Path.GetDirectoryName(DatabasePath);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            try
            {
                _ = Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SqliteJournalException($"The directory '{directory}' of the write-back journal '{DatabasePath}' could not be created ({ex.Message}). Nothing was journaled.", ex);
            }
        }
    }

    private void CloseWriter()
    {
        _writer?.Dispose();
        _writer = null;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        _ = command.ExecuteNonQuery();
    }
}
