using Npgsql;
using NpgsqlTypes;

namespace BuildingBlocks.Sagas.PostgreSql;

/// <summary>
/// A durable <see cref="ISagaStore"/> on PostgreSQL, shared by coordinators on any number of machines. Works without DI:
/// <c>new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { ConnectionString = "..." })</c>.
/// </summary>
/// <remarks>
/// <para>
/// Every call is one statement, so one round trip: a checkpoint is a fenced <c>UPDATE</c> (applied only while the
/// presented owner and token still hold the saga) and the <c>INSERT</c> of its history lines (sent as arrays and
/// unnested) in one statement, atomic by itself. A coordinator that acquires a saga locks its row, so a stale holder's
/// checkpoint racing the takeover either lands before it or is refused after it, never half.
/// </para>
/// <para>
/// Checkpoints are group-committed: a lone checkpoint is sent at once as that one statement; checkpoints that arrive
/// while one is being written are queued and sent together (up to 256, one statement each, in saga id order) in one
/// round trip and one transaction, each with its own fenced result. If that transaction fails, its checkpoints are
/// written again one by one, so only a faulty one fails. A caller canceled while queued is answered canceled and its
/// checkpoint is not sent; once sent, it gets the real result.
/// </para>
/// <para>
/// Acquisition picks the active sagas oldest update first from a partial index with <c>FOR UPDATE SKIP LOCKED</c> and
/// leases them in the same statement, so competing coordinators never wait for each other or take the same saga twice.
/// Renewals and releases are one statement each over arrays of leases, locking rows in id order.
/// </para>
/// <para>
/// Times are the store's <see cref="TimeProvider"/> (not the server clock) stored as <c>timestamptz</c> (microseconds),
/// so every coordinator must run with a reasonably synchronized clock, as leases already require. Ids compare and sort
/// ordinally (<c>COLLATE "C"</c>).
/// </para>
/// </remarks>
public sealed class PostgreSqlSagaStore : ISagaStore, IAsyncDisposable, IDisposable
{
    /// <summary>The schema version this version of the package writes (kept in the <c>saga_schema_version</c> table).</summary>
    public const int SchemaVersion = PostgreSqlSagaSchema.Version;

    /// <summary>The longest saga id the store accepts.</summary>
    private const int MaxIdLength = 200;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly TimeProvider _timeProvider;
    private readonly string _schema;
    private readonly bool _migrate;
    private readonly int _commandTimeoutSeconds;
    private readonly string _description;
    private readonly SemaphoreSlim _initializeLock = new(1, 1);
    private readonly Sql _sql;
    private readonly CheckpointBatcher _checkpoints;
    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Creates a store on the system clock. Nothing is opened until the first call.</summary>
    /// <param name="options">The connection and the schema.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public PostgreSqlSagaStore(PostgreSqlSagaStoreOptions options)
        : this(options, TimeProvider.System)
    {
    }

    /// <summary>Creates a store. Nothing is opened until the first call.</summary>
    /// <param name="options">The connection and the schema.</param>
    /// <param name="timeProvider">The clock for lease expiry; every coordinator sharing the tables must use a synchronized one.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public PostgreSqlSagaStore(PostgreSqlSagaStoreOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Validate(options);
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
        _sql = new Sql(PostgreSqlSagaSchema.Quote(_schema));
        _checkpoints = new CheckpointBatcher(WriteCheckpointAsync, WriteCheckpointsAsync, () => new ObjectDisposedException(GetType().FullName));
    }

    /// <summary>The schema that holds the tables.</summary>
    public string Schema => _schema;

    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>The acquisition statement, for tests that read its plan.</summary>
    internal string AcquireSql => _sql.Acquire;

    /// <summary>The group commit of checkpoints, for tests that count its transactions.</summary>
    internal CheckpointBatcher Checkpoints => _checkpoints;

    /// <summary>
    /// The SQL that creates the tables at <see cref="SchemaVersion"/>, for users who set
    /// <see cref="PostgreSqlSagaStoreOptions.MigrateSchema"/> to false and migrate themselves.
    /// </summary>
    /// <param name="schema">The schema name.</param>
    /// <returns>The script.</returns>
    /// <exception cref="ArgumentException">The schema name is not a plain lower-case identifier.</exception>
    public static string GetMigrationScript(string schema = PostgreSqlSagaStoreOptions.DefaultSchema)
    {
        Validate(new PostgreSqlSagaStoreOptions { Schema = schema, ConnectionString = "Host=localhost" });
        return PostgreSqlSagaSchema.Script(schema);
    }

    /// <summary>
    /// Creates or upgrades the tables (or, with <see cref="PostgreSqlSagaStoreOptions.MigrateSchema"/> off, checks their
    /// version). The first call of any other method does this; call it at start-up to see problems at once.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the tables are ready.</returns>
    /// <exception cref="InvalidOperationException">
    /// The server cannot be reached, or the tables are of another version or were not created by this package (the
    /// message names the server and the schema).
    /// </exception>
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
                try
                {
                    await PostgreSqlSagaSchema.InitializeAsync(_dataSource, _schema, _migrate, _description, cancellationToken).ConfigureAwait(false);
                }
                catch (NpgsqlException e)
                {
                    throw Failure(e, "create or check its tables");
                }

                _initialized = true;
            }
        }
        finally
        {
            _initializeLock.Release();
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The saga or a history line cannot be stored (id empty or longer than 200 characters, a NUL character in text, an undefined status or kind).</exception>
    /// <exception cref="InvalidOperationException">The server failed (the message names the server and the schema), or the history lines repeat a sequence number.</exception>
    public async ValueTask<bool> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(saga);
        ArgumentNullException.ThrowIfNull(events);
        CheckId(saga.Id, nameof(saga));
        CheckText(saga.Name, "saga.Name", nullable: false);
        CheckStatus(saga.Status, "saga.Status");
        CheckText(saga.Data, "saga.Data", nullable: false);
        CheckText(saga.Progress, "saga.Progress", nullable: false);
        CheckText(saga.Error, "saga.Error", nullable: true);
        CheckText(saga.LeaseOwner, "saga.LeaseOwner", nullable: true);
        CheckEvents(events, nameof(events));
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using NpgsqlCommand command = Command(_sql.Create);
            command.Parameters.Add(new NpgsqlParameter<string>("id", saga.Id));
            command.Parameters.Add(new NpgsqlParameter<string>("name", saga.Name));
            command.Parameters.Add(new NpgsqlParameter<int>("version", saga.Version));
            command.Parameters.Add(new NpgsqlParameter<short>("status", (short)saga.Status));
            command.Parameters.Add(new NpgsqlParameter<string>("data", saga.Data));
            command.Parameters.Add(new NpgsqlParameter<string>("progress", saga.Progress));
            command.Parameters.Add(Text("error", saga.Error));
            command.Parameters.Add(Time("created_at", saga.CreatedAt));
            command.Parameters.Add(Time("updated_at", saga.UpdatedAt));
            command.Parameters.Add(Text("owner", saga.LeaseOwner));
            command.Parameters.Add(new NpgsqlParameter<long>("token", saga.LeaseToken));
            command.Parameters.Add(OptionalTime("expires", saga.LeaseExpiresAt));
            AddEvents(command.Parameters, events);
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"create saga '{saga.Id}'");
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The checkpoint cannot be stored (a NUL character in text, an undefined status or kind).</exception>
    /// <exception cref="InvalidOperationException">The server failed (the message names the server and the schema; nothing was written), or a history line repeats a stored sequence number.</exception>
    public async ValueTask<bool> CheckpointAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(checkpoint.SagaId, "checkpoint.SagaId");
        ArgumentNullException.ThrowIfNull(checkpoint.LeaseOwner, "checkpoint.LeaseOwner");
        CheckStatus(checkpoint.Status, "checkpoint.Status");
        CheckText(checkpoint.Data, "checkpoint.Data", nullable: false);
        CheckText(checkpoint.Progress, "checkpoint.Progress", nullable: false);
        CheckText(checkpoint.Error, "checkpoint.Error", nullable: true);
        CheckEvents(checkpoint.Events, "checkpoint.Events");
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return await _checkpoints.WriteAsync(checkpoint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One checkpoint as one statement (its own transaction): a lone checkpoint, or one of a failed batch.</summary>
    /// <remarks>Not cancelable: once sent, the caller gets the real result (the command timeout bounds the wait).</remarks>
    private async Task<bool> WriteCheckpointAsync(SagaCheckpoint checkpoint)
    {
        try
        {
            using NpgsqlCommand command = Command(_sql.Checkpoint);
            AddCheckpoint(command.Parameters, checkpoint);
            return (bool)(await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false))!;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"checkpoint saga '{checkpoint.SagaId}'");
        }
    }

    /// <summary>
    /// Many checkpoints in one round trip: a batch of the single statements, which PostgreSQL runs in one implicit
    /// transaction (one commit, one WAL flush). Each statement is fenced by itself; any failure rolls all of them back.
    /// </summary>
    private async Task<bool[]> WriteCheckpointsAsync(IReadOnlyList<SagaCheckpoint> checkpoints)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using NpgsqlBatch batch = _dataSource.CreateBatch();
        batch.Timeout = _commandTimeoutSeconds;
        foreach (SagaCheckpoint checkpoint in checkpoints)
        {
            var command = new NpgsqlBatchCommand(_sql.Checkpoint);
            AddCheckpoint(command.Parameters, checkpoint);
            batch.BatchCommands.Add(command);
        }

        bool[] written = new bool[checkpoints.Count];
        NpgsqlDataReader reader = await batch.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            for (int i = 0; i < written.Length; i++)
            {
                if (i > 0 && !await reader.NextResultAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"The PostgreSQL saga store {_description} got {i} results for a batch of {written.Length} checkpoints.");
                }

                written[i] = await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false) && reader.GetBoolean(0);
            }

            // Read to the end, so an error raised at the commit surfaces here rather than being taken for success.
            while (await reader.NextResultAsync(CancellationToken.None).ConfigureAwait(false))
            {
            }
        }

        return written;
    }

    private static void AddCheckpoint(NpgsqlParameterCollection parameters, SagaCheckpoint checkpoint)
    {
        parameters.Add(new NpgsqlParameter<string>("id", checkpoint.SagaId));
        parameters.Add(new NpgsqlParameter<string>("owner", checkpoint.LeaseOwner));
        parameters.Add(new NpgsqlParameter<long>("token", checkpoint.LeaseToken));
        parameters.Add(new NpgsqlParameter<short>("status", (short)checkpoint.Status));
        parameters.Add(new NpgsqlParameter<string>("data", checkpoint.Data));
        parameters.Add(new NpgsqlParameter<string>("progress", checkpoint.Progress));
        parameters.Add(Text("error", checkpoint.Error));
        parameters.Add(Time("updated_at", checkpoint.UpdatedAt));
        parameters.Add(new NpgsqlParameter<bool>("release", checkpoint.ReleaseLease));
        AddEvents(parameters, checkpoint.Events);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<SagaRecord>> AcquireAsync(string owner, IReadOnlyCollection<string> names, int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        CheckText(owner, nameof(owner), nullable: false);
        if (names.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return [];
        }

        string[] nameArray = [.. names];
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        try
        {
            using NpgsqlCommand command = Command(_sql.Acquire);
            command.Parameters.Add(Time("now", now));
            command.Parameters.Add(new NpgsqlParameter<string[]>("names", nameArray));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", maxCount));
            command.Parameters.Add(new NpgsqlParameter<string>("owner", owner));
            command.Parameters.Add(Time("expires", now + leaseDuration));
            var acquired = new List<SagaRecord>(Math.Min(maxCount, 256));
            using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    acquired.Add(PostgreSqlSagaRows.ReadSaga(reader));
                }
            }

            // RETURNING does not keep the order of the locking subquery.
            acquired.Sort(static (a, b) =>
            {
                int byUpdate = a.UpdatedAt.UtcTicks.CompareTo(b.UpdatedAt.UtcTicks);
                return byUpdate != 0 ? byUpdate : string.CompareOrdinal(a.Id, b.Id);
            });
            return acquired;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"acquire sagas for '{owner}'");
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(leases);
        if (leases.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return [];
        }

        (string[] ids, long[] tokens) = Split(leases);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        try
        {
            using NpgsqlCommand command = Command(_sql.Renew);
            command.Parameters.Add(new NpgsqlParameter<string>("owner", owner));
            command.Parameters.Add(new NpgsqlParameter<string[]>("ids", ids));
            command.Parameters.Add(new NpgsqlParameter<long[]>("tokens", tokens));
            command.Parameters.Add(Time("expires", now + leaseDuration));
            var held = new HashSet<SagaLease>(leases.Count);
            using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    _ = held.Add(new SagaLease(reader.GetString(0), reader.GetInt64(1)));
                }
            }

            List<string> lost = [];
            foreach (SagaLease lease in leases)
            {
                if (!held.Contains(lease))
                {
                    lost.Add(lease.SagaId);
                }
            }

            return lost;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"renew {leases.Count} lease(s) of '{owner}'");
        }
    }

    /// <inheritdoc />
    public async ValueTask ReleaseLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(leases);
        if (leases.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }

        (string[] ids, long[] tokens) = Split(leases);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using NpgsqlCommand command = Command(_sql.Release);
            command.Parameters.Add(new NpgsqlParameter<string>("owner", owner));
            command.Parameters.Add(new NpgsqlParameter<string[]>("ids", ids));
            command.Parameters.Add(new NpgsqlParameter<long[]>("tokens", tokens));
            _ = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"release {leases.Count} lease(s) of '{owner}'");
        }
    }

    /// <inheritdoc />
    public async ValueTask<SagaRecord?> GetAsync(string sagaId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using NpgsqlCommand command = Command(_sql.Get);
            command.Parameters.Add(new NpgsqlParameter<string>("id", sagaId));
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? PostgreSqlSagaRows.ReadSaga(reader) : null;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"read saga '{sagaId}'");
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<SagaEvent>> GetEventsAsync(string sagaId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using NpgsqlCommand command = Command(_sql.GetEvents);
            command.Parameters.Add(new NpgsqlParameter<string>("id", sagaId));
            List<SagaEvent> events = [];
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                events.Add(PostgreSqlSagaRows.ReadEvent(reader, sagaId));
            }

            return events;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"read the history of saga '{sagaId}'");
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><see cref="SagaQuery.Limit"/> is not between 1 and 1,000.</exception>
    public async ValueTask<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 1_000)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"SagaQuery.Limit is {query.Limit}; it must be between 1 and 1,000.");
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sql = new System.Text.StringBuilder("SELECT ").Append(PostgreSqlSagaRows.SagaColumns).Append(" FROM ").Append(_sql.Sagas).Append(" WHERE true");
            using NpgsqlCommand command = Command("");
            if (query.AfterId is not null)
            {
                // The id column sorts with COLLATE "C": ordinal, as the contract asks.
                sql.Append(" AND id > @after");
                command.Parameters.Add(new NpgsqlParameter<string>("after", query.AfterId));
            }

            if (query.Statuses is { Count: > 0 } statuses)
            {
                sql.Append(" AND status = ANY(@statuses)");
                command.Parameters.Add(new NpgsqlParameter<short[]>("statuses", [.. statuses.Select(s => (short)s)]));
            }

            if (query.Name is not null)
            {
                sql.Append(" AND name = @name");
                command.Parameters.Add(new NpgsqlParameter<string>("name", query.Name));
            }

            sql.Append(" ORDER BY id LIMIT @limit;");
            command.Parameters.Add(new NpgsqlParameter<int>("limit", query.Limit));
            command.CommandText = sql.ToString();
            List<SagaRecord> page = [];
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                page.Add(PostgreSqlSagaRows.ReadSaga(reader));
            }

            return page;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, "query sagas");
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using NpgsqlCommand command = Command(_sql.CountByStatus);
            Dictionary<SagaStatus, long> counts = [];
            using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                short status = reader.GetInt16(0);
                counts[Enum.IsDefined((SagaStatus)status)
                    ? (SagaStatus)status
                    : throw new InvalidOperationException($"The PostgreSQL saga store {_description} holds sagas with status {status}, which is not a SagaStatus value; they were changed outside this package or by a newer version of it.")] = reader.GetInt64(1);
            }

            return counts;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, "count sagas by status");
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The change cannot be stored (a NUL character in text, an undefined status or kind).</exception>
    /// <exception cref="InvalidOperationException">The server failed (the message names the server and the schema; nothing was written), or a history line repeats a stored sequence number.</exception>
    public async ValueTask<bool> TransitionAsync(SagaTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        ArgumentNullException.ThrowIfNull(transition.SagaId, "transition.SagaId");
        CheckStatus(transition.ExpectedStatus, "transition.ExpectedStatus");
        CheckStatus(transition.Status, "transition.Status");
        CheckText(transition.Progress, "transition.Progress", nullable: true);
        CheckText(transition.Error, "transition.Error", nullable: true);
        CheckEvents(transition.Events, "transition.Events");
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        try
        {
            using NpgsqlCommand command = Command(_sql.Transition);
            command.Parameters.Add(new NpgsqlParameter<string>("id", transition.SagaId));
            command.Parameters.Add(new NpgsqlParameter<short>("expected", (short)transition.ExpectedStatus));
            command.Parameters.Add(Time("now", now));
            command.Parameters.Add(new NpgsqlParameter<short>("status", (short)transition.Status));
            command.Parameters.Add(Text("progress", transition.Progress));
            command.Parameters.Add(Text("error", transition.Error));
            command.Parameters.Add(Time("updated_at", transition.UpdatedAt));
            AddEvents(command.Parameters, transition.Events);
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (NpgsqlException e)
        {
            throw Failure(e, $"change saga '{transition.SagaId}'");
        }
    }

    /// <summary>Disposes the data source the store built from <see cref="PostgreSqlSagaStoreOptions.ConnectionString"/> (not one the application passed).</summary>
    /// <returns>A task that completes when the connections are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _checkpoints.Close();
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _initializeLock.Dispose();
    }

    /// <summary>As <see cref="DisposeAsync"/>, for containers disposed without <see langword="await"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _checkpoints.Close();
        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }

        _initializeLock.Dispose();
    }

    private static void Validate(PostgreSqlSagaStoreOptions options)
    {
        var validation = new PostgreSqlSagaStoreOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }
    }

    private static void CheckId(string? id, string paramName)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            throw new ArgumentException(
                $"The saga id {(id is null ? "is null" : $"has {id.Length} characters")}; it must have 1 to {MaxIdLength}.", paramName);
        }

        CheckText(id, "saga.Id", nullable: false);
    }

    /// <summary>PostgreSQL text cannot hold U+0000; refuse it before the server does, naming the field.</summary>
    private static void CheckText(string? value, string field, bool nullable)
    {
        if (value is null)
        {
            if (!nullable)
            {
                throw new ArgumentNullException(field, $"{field} is null; it must be set.");
            }

            return;
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{field} contains the NUL character (U+0000), which PostgreSQL text cannot store; escape it (JSON writes \\u0000).", field);
        }
    }

    private static void CheckStatus(SagaStatus status, string field)
    {
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(field, status, $"{field} is {(int)status}, which is not a SagaStatus value.");
        }
    }

    private static void CheckEvents(IReadOnlyList<SagaEvent> events, string field)
    {
        ArgumentNullException.ThrowIfNull(events, field);
        for (int i = 0; i < events.Count; i++)
        {
            SagaEvent e = events[i] ?? throw new ArgumentException($"{field}[{i}] is null.", field);
            if (!Enum.IsDefined(e.Kind))
            {
                throw new ArgumentOutOfRangeException(field, e.Kind, $"{field}[{i}].Kind is {(int)e.Kind}, which is not a SagaEventKind value.");
            }

            CheckText(e.Step, $"{field}[{i}].Step", nullable: true);
            CheckText(e.Detail, $"{field}[{i}].Detail", nullable: true);
        }
    }

    private static (string[] Ids, long[] Tokens) Split(IReadOnlyList<SagaLease> leases)
    {
        string[] ids = new string[leases.Count];
        long[] tokens = new long[leases.Count];
        for (int i = 0; i < leases.Count; i++)
        {
            ids[i] = leases[i].SagaId ?? throw new ArgumentException($"leases[{i}].SagaId is null.", nameof(leases));
            tokens[i] = leases[i].LeaseToken;
        }

        return (ids, tokens);
    }

    /// <summary>The history lines as one array per column, unnested by the statement.</summary>
    private static void AddEvents(NpgsqlParameterCollection parameters, IReadOnlyList<SagaEvent> events)
    {
        int count = events.Count;
        long[] sequence = new long[count];
        short[] kind = new short[count];
        string?[] step = new string?[count];
        int[] attempt = new int[count];
        DateTime[] at = new DateTime[count];
        long?[] duration = new long?[count];
        string?[] detail = new string?[count];
        long[] token = new long[count];
        for (int i = 0; i < count; i++)
        {
            SagaEvent e = events[i];
            sequence[i] = e.Sequence;
            kind[i] = (short)e.Kind;
            step[i] = e.Step;
            attempt[i] = e.Attempt;
            at[i] = e.At.UtcDateTime;
            duration[i] = e.Duration?.Ticks;
            detail[i] = e.Detail;
            token[i] = e.LeaseToken;
        }

        parameters.Add(new NpgsqlParameter<long[]>("e_sequence", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = sequence });
        parameters.Add(new NpgsqlParameter<short[]>("e_kind", NpgsqlDbType.Array | NpgsqlDbType.Smallint) { TypedValue = kind });
        parameters.Add(new NpgsqlParameter<string?[]>("e_step", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = step });
        parameters.Add(new NpgsqlParameter<int[]>("e_attempt", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = attempt });
        parameters.Add(new NpgsqlParameter<DateTime[]>("e_at", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = at });
        parameters.Add(new NpgsqlParameter<long?[]>("e_duration", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = duration });
        parameters.Add(new NpgsqlParameter<string?[]>("e_detail", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = detail });
        parameters.Add(new NpgsqlParameter<long[]>("e_token", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = token });
    }

    private static NpgsqlParameter<DateTimeOffset> Time(string name, DateTimeOffset value) =>
        new(name, NpgsqlDbType.TimestampTz) { TypedValue = value.ToUniversalTime() };

    private static NpgsqlParameter OptionalTime(string name, DateTimeOffset? value) =>
        new(name, NpgsqlDbType.TimestampTz) { Value = value is { } v ? v.ToUniversalTime() : DBNull.Value };

    private static NpgsqlParameter Text(string name, string? value) =>
        new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    private NpgsqlCommand Command(string sql)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        NpgsqlCommand command = _dataSource.CreateCommand(sql);
        command.CommandTimeout = _commandTimeoutSeconds;
        return command;
    }

    /// <summary>
    /// A server or connection failure, as an exception naming the server, the schema and what the store was doing. The
    /// call's statement either committed before the failure or did nothing: every call is one statement (a checkpoint
    /// whose batch failed was written again alone).
    /// </summary>
    private InvalidOperationException Failure(NpgsqlException e, string operation)
    {
        if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "saga_events_pkey" })
        {
            return new InvalidOperationException(
                $"The PostgreSQL saga store {_description} could not {operation}: a history line repeats a sequence number already " +
                $"stored for the saga (primary key of {_schema}.saga_events). Nothing was written.", e);
        }

        return new InvalidOperationException($"The PostgreSQL saga store {_description} could not {operation}: {e.Message}", e);
    }

    /// <summary>The statements, with the schema filled in once.</summary>
    private sealed class Sql
    {
        public Sql(string schema)
        {
            Sagas = schema + ".sagas";
            string events = schema + ".saga_events";

            // The history lines arrive as one array per column; the INSERT joins the changed row, so nothing is written
            // when the fenced UPDATE (or the INSERT of a new saga) touched no row.
            string insertEvents =
                $"INSERT INTO {events} (saga_id, sequence, kind, step, attempt, at, duration, detail, lease_token) " +
                "SELECT c.id, l.sequence, l.kind, l.step, l.attempt, l.at, l.duration, l.detail, l.lease_token " +
                "FROM changed c, unnest(@e_sequence, @e_kind, @e_step, @e_attempt, @e_at, @e_duration, @e_detail, @e_token) " +
                "AS l(sequence, kind, step, attempt, at, duration, detail, lease_token)";

            Create =
                $"""
                WITH changed AS (
                    INSERT INTO {Sagas} (id, name, version, status, data, progress, error, created_at, updated_at, lease_owner, lease_token, lease_expires_at)
                    VALUES (@id, @name, @version, @status, @data, @progress, @error, @created_at, @updated_at, @owner, @token, @expires)
                    ON CONFLICT (id) DO NOTHING
                    RETURNING id),
                written AS ({insertEvents})
                SELECT EXISTS (SELECT 1 FROM changed);
                """;

            // Fenced: applies only while this owner holds the saga with this token. When another coordinator's acquisition
            // holds the row lock, this waits for it and re-reads the row: a raised token then refuses the write.
            Checkpoint =
                $"""
                WITH changed AS (
                    UPDATE {Sagas} SET
                        status = @status, data = @data, progress = @progress, error = @error, updated_at = @updated_at,
                        lease_owner = CASE WHEN @release THEN NULL ELSE lease_owner END,
                        lease_expires_at = CASE WHEN @release THEN NULL ELSE lease_expires_at END
                    WHERE id = @id AND lease_owner = @owner AND lease_token = @token
                    RETURNING id),
                written AS ({insertEvents})
                SELECT EXISTS (SELECT 1 FROM changed);
                """;

            // Oldest update first from the partial index of active sagas, of the definitions the coordinator runs; rows
            // another acquirer (or a writer) has locked are skipped, so no saga is handed to two callers.
            Acquire =
                $"""
                WITH next AS (
                    SELECT id FROM {Sagas}
                    WHERE status IN (0, 1) AND (lease_owner IS NULL OR lease_expires_at <= @now) AND name = ANY(@names)
                    ORDER BY updated_at, id
                    LIMIT @limit
                    FOR UPDATE SKIP LOCKED)
                UPDATE {Sagas} t SET lease_owner = @owner, lease_token = t.lease_token + 1, lease_expires_at = @expires
                FROM next WHERE t.id = next.id
                RETURNING {PostgreSqlSagaRows.SagaColumnsOfT};
                """;

            // Rows are locked in id order, so two multi-row statements never wait for each other in a cycle.
            const string Held =
                """
                held AS (
                    SELECT t.id FROM {0} t JOIN unnest(@ids, @tokens) AS l(id, token) ON t.id = l.id AND t.lease_token = l.token
                    WHERE t.lease_owner = @owner
                    ORDER BY t.id
                    FOR UPDATE OF t)
                """;
            string held = string.Format(System.Globalization.CultureInfo.InvariantCulture, Held, Sagas);
            Renew =
                $"""
                WITH {held}
                UPDATE {Sagas} t SET lease_expires_at = @expires
                FROM held WHERE t.id = held.id
                RETURNING t.id, t.lease_token;
                """;
            Release =
                $"""
                WITH {held}
                UPDATE {Sagas} t SET lease_owner = NULL, lease_expires_at = NULL
                FROM held WHERE t.id = held.id;
                """;

            Transition =
                $"""
                WITH changed AS (
                    UPDATE {Sagas} SET
                        status = @status, progress = COALESCE(@progress, progress), error = @error, updated_at = @updated_at,
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = @id AND status = @expected
                        AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= @now)
                    RETURNING id),
                written AS ({insertEvents})
                SELECT EXISTS (SELECT 1 FROM changed);
                """;

            Get = $"SELECT {PostgreSqlSagaRows.SagaColumns} FROM {Sagas} WHERE id = @id;";
            GetEvents = $"SELECT {PostgreSqlSagaRows.EventColumns} FROM {events} WHERE saga_id = @id ORDER BY sequence;";
            CountByStatus = $"SELECT status, count(*) FROM {Sagas} GROUP BY status;";
        }

        public string Sagas { get; }

        public string Create { get; }

        public string Checkpoint { get; }

        public string Acquire { get; }

        public string Renew { get; }

        public string Release { get; }

        public string Transition { get; }

        public string Get { get; }

        public string GetEvents { get; }

        public string CountByStatus { get; }
    }
}
