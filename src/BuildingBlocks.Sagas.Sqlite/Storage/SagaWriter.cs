using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>
/// The store's one writer connection and its prepared statements. Not thread-safe: <see cref="SqliteSagaStore"/> calls
/// it under its write lock, inside a <c>BEGIN IMMEDIATE</c> transaction. Each method re-binds the parameters of a
/// statement prepared once, so SQLite never parses the hot statements again.
/// </summary>
internal sealed class SagaWriter : IDisposable
{
    /// <summary>
    /// Finds the sagas an acquire takes. Reads the partial acquire index alone (it holds every column used here); the
    /// rows are then leased one by one, in this order, inside the same transaction.
    /// </summary>
    internal const string AcquireSelectSql = $"""
        SELECT row_id FROM sagas INDEXED BY ix_sagas_available
        WHERE status IN {SqliteSagaSchema.ActiveStatuses}
          AND {SqliteSagaSchema.AvailableFrom} <= $now
          AND name IN (SELECT value FROM json_each($names))
        ORDER BY updated_at, id
        LIMIT $limit;
        """;

    private readonly List<SqliteCommand> _commands = [];
    private readonly string _path;

    private readonly SqliteCommand _insertSaga;
    private readonly SqliteParameter _insId, _insName, _insVersion, _insStatus, _insCreated, _insUpdated, _insOwner, _insToken, _insExpires;

    private readonly SqliteCommand _insertData;
    private readonly SqliteParameter _insDataRow, _insData, _insProgress, _insError;

    private readonly SqliteCommand _insertEvent;
    private readonly SqliteParameter _evSaga, _evSequence, _evKind, _evStep, _evAttempt, _evAt, _evDuration, _evDetail, _evToken;

    private readonly SqliteCommand _checkpoint;
    private readonly SqliteParameter _cpId, _cpOwner, _cpToken, _cpStatus, _cpUpdated, _cpRelease;

    private readonly SqliteCommand _updateData;
    private readonly SqliteParameter _udRow, _udData, _udProgress, _udError;

    private readonly SqliteCommand _acquireSelect;
    private readonly SqliteParameter _acqNow, _acqNames, _acqLimit;
    private readonly SqliteCommand _acquire;
    private readonly SqliteParameter _acqRow, _acqOwner, _acqExpires;
    private readonly SqliteCommand _readSaga;
    private readonly SqliteParameter _readRow;

    private readonly SqliteCommand _renew;
    private readonly SqliteParameter _renId, _renOwner, _renToken, _renExpires;

    private readonly SqliteCommand _release;
    private readonly SqliteParameter _relId, _relOwner, _relToken;

    private readonly SqliteCommand _transition;
    private readonly SqliteParameter _trId, _trExpected, _trStatus, _trUpdated, _trNow;
    private readonly SqliteCommand _transitionData;
    private readonly SqliteParameter _tdRow, _tdProgress, _tdError;

    public SagaWriter(SqliteConnection connection, int commandTimeoutSeconds, string path)
    {
        Connection = connection;
        CommandTimeoutSeconds = commandTimeoutSeconds;
        _path = path;

        _insertSaga = Prepare(
            """
            INSERT INTO sagas (id, name, version, status, created_at, updated_at, lease_owner, lease_token, lease_expires_at)
            VALUES ($id, $name, $version, $status, $created_at, $updated_at, $lease_owner, $lease_token, $lease_expires_at)
            ON CONFLICT (id) DO NOTHING
            RETURNING row_id;
            """,
            out SqliteParameter[] p,
            ("$id", SqliteType.Text), ("$name", SqliteType.Text), ("$version", SqliteType.Integer), ("$status", SqliteType.Integer),
            ("$created_at", SqliteType.Integer), ("$updated_at", SqliteType.Integer), ("$lease_owner", SqliteType.Text),
            ("$lease_token", SqliteType.Integer), ("$lease_expires_at", SqliteType.Integer));
        (_insId, _insName, _insVersion, _insStatus, _insCreated, _insUpdated, _insOwner, _insToken, _insExpires) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]);

        _insertData = Prepare(
            "INSERT INTO saga_data (row_id, data, progress, error) VALUES ($row_id, $data, $progress, $error);",
            out p,
            ("$row_id", SqliteType.Integer), ("$data", SqliteType.Text), ("$progress", SqliteType.Text), ("$error", SqliteType.Text));
        (_insDataRow, _insData, _insProgress, _insError) = (p[0], p[1], p[2], p[3]);

        _insertEvent = Prepare(
            """
            INSERT INTO saga_events (saga_id, sequence, kind, step, attempt, at, duration, detail, lease_token)
            VALUES ($saga_id, $sequence, $kind, $step, $attempt, $at, $duration, $detail, $lease_token);
            """,
            out p,
            ("$saga_id", SqliteType.Text), ("$sequence", SqliteType.Integer), ("$kind", SqliteType.Integer), ("$step", SqliteType.Text),
            ("$attempt", SqliteType.Integer), ("$at", SqliteType.Integer), ("$duration", SqliteType.Integer), ("$detail", SqliteType.Text),
            ("$lease_token", SqliteType.Integer));
        (_evSaga, _evSequence, _evKind, _evStep, _evAttempt, _evAt, _evDuration, _evDetail, _evToken) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]);

        // The fence: the row changes only while this owner holds it with this token (expiry deliberately not checked).
        _checkpoint = Prepare(
            """
            UPDATE sagas SET
                status = $status, updated_at = $updated_at,
                lease_owner = CASE WHEN $release THEN NULL ELSE lease_owner END,
                lease_expires_at = CASE WHEN $release THEN NULL ELSE lease_expires_at END
            WHERE id = $id AND lease_owner = $owner AND lease_token = $token
            RETURNING row_id;
            """,
            out p,
            ("$id", SqliteType.Text), ("$owner", SqliteType.Text), ("$token", SqliteType.Integer), ("$status", SqliteType.Integer),
            ("$updated_at", SqliteType.Integer), ("$release", SqliteType.Integer));
        (_cpId, _cpOwner, _cpToken, _cpStatus, _cpUpdated, _cpRelease) = (p[0], p[1], p[2], p[3], p[4], p[5]);

        _updateData = Prepare(
            "UPDATE saga_data SET data = $data, progress = $progress, error = $error WHERE row_id = $row_id;",
            out p,
            ("$row_id", SqliteType.Integer), ("$data", SqliteType.Text), ("$progress", SqliteType.Text), ("$error", SqliteType.Text));
        (_udRow, _udData, _udProgress, _udError) = (p[0], p[1], p[2], p[3]);

        _acquireSelect = Prepare(
            AcquireSelectSql,
            out p,
            ("$now", SqliteType.Integer), ("$names", SqliteType.Text), ("$limit", SqliteType.Integer));
        (_acqNow, _acqNames, _acqLimit) = (p[0], p[1], p[2]);

        _acquire = Prepare(
            "UPDATE sagas SET lease_owner = $owner, lease_token = lease_token + 1, lease_expires_at = $lease_expires_at WHERE row_id = $row_id;",
            out p,
            ("$row_id", SqliteType.Integer), ("$owner", SqliteType.Text), ("$lease_expires_at", SqliteType.Integer));
        (_acqRow, _acqOwner, _acqExpires) = (p[0], p[1], p[2]);

        _readSaga = Prepare($"SELECT {SagaRows.SagaColumns} FROM {SagaRows.SagaFrom} WHERE s.row_id = $row_id;", out p, ("$row_id", SqliteType.Integer));
        _readRow = p[0];

        _renew = Prepare(
            "UPDATE sagas SET lease_expires_at = $lease_expires_at WHERE id = $id AND lease_owner = $owner AND lease_token = $token;",
            out p,
            ("$id", SqliteType.Text), ("$owner", SqliteType.Text), ("$token", SqliteType.Integer), ("$lease_expires_at", SqliteType.Integer));
        (_renId, _renOwner, _renToken, _renExpires) = (p[0], p[1], p[2], p[3]);

        _release = Prepare(
            "UPDATE sagas SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $id AND lease_owner = $owner AND lease_token = $token;",
            out p,
            ("$id", SqliteType.Text), ("$owner", SqliteType.Text), ("$token", SqliteType.Integer));
        (_relId, _relOwner, _relToken) = (p[0], p[1], p[2]);

        // No live lease: nobody holds it, or the holder's lease has no expiry or has expired (as the in-memory store decides).
        _transition = Prepare(
            """
            UPDATE sagas SET status = $status, updated_at = $updated_at, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = $id AND status = $expected
              AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= $now)
            RETURNING row_id;
            """,
            out p,
            ("$id", SqliteType.Text), ("$expected", SqliteType.Integer), ("$status", SqliteType.Integer), ("$updated_at", SqliteType.Integer),
            ("$now", SqliteType.Integer));
        (_trId, _trExpected, _trStatus, _trUpdated, _trNow) = (p[0], p[1], p[2], p[3], p[4]);

        _transitionData = Prepare(
            "UPDATE saga_data SET progress = COALESCE($progress, progress), error = $error WHERE row_id = $row_id;",
            out p,
            ("$row_id", SqliteType.Integer), ("$progress", SqliteType.Text), ("$error", SqliteType.Text));
        (_tdRow, _tdProgress, _tdError) = (p[0], p[1], p[2]);
    }

    public SqliteConnection Connection { get; }

    public int CommandTimeoutSeconds { get; }

    /// <summary>Inserts the saga and its history, or nothing when the id exists.</summary>
    public bool Create(SagaRecord saga, IReadOnlyList<SagaEvent> events)
    {
        _insId.Value = saga.Id;
        _insName.Value = saga.Name;
        _insVersion.Value = saga.Version;
        _insStatus.Value = (int)saga.Status;
        _insCreated.Value = SagaRows.ToTicks(saga.CreatedAt);
        _insUpdated.Value = SagaRows.ToTicks(saga.UpdatedAt);
        _insOwner.Value = (object?)saga.LeaseOwner ?? DBNull.Value;
        _insToken.Value = saga.LeaseToken;
        _insExpires.Value = saga.LeaseExpiresAt is { } expires ? SagaRows.ToTicks(expires) : (object)DBNull.Value;
        if (_insertSaga.ExecuteScalar() is not long rowId)
        {
            return false;
        }

        _insDataRow.Value = rowId;
        _insData.Value = saga.Data;
        _insProgress.Value = saga.Progress;
        _insError.Value = (object?)saga.Error ?? DBNull.Value;
        _ = _insertData.ExecuteNonQuery();
        InsertEvents(saga.Id, events);
        return true;
    }

    /// <summary>Applies a holder's checkpoint; false (and nothing changed) when the owner no longer holds the saga with that token.</summary>
    public bool Checkpoint(SagaCheckpoint checkpoint)
    {
        _cpId.Value = checkpoint.SagaId;
        _cpOwner.Value = checkpoint.LeaseOwner;
        _cpToken.Value = checkpoint.LeaseToken;
        _cpStatus.Value = (int)checkpoint.Status;
        _cpUpdated.Value = SagaRows.ToTicks(checkpoint.UpdatedAt);
        _cpRelease.Value = checkpoint.ReleaseLease ? 1 : 0;
        if (_checkpoint.ExecuteScalar() is not long rowId)
        {
            return false;
        }

        _udRow.Value = rowId;
        _udData.Value = checkpoint.Data;
        _udProgress.Value = checkpoint.Progress;
        _udError.Value = (object?)checkpoint.Error ?? DBNull.Value;
        ExpectOneRow(_updateData.ExecuteNonQuery(), checkpoint.SagaId);
        InsertEvents(checkpoint.SagaId, checkpoint.Events);
        return true;
    }

    /// <summary>Leases available active sagas of the given names, oldest update first, and returns them as they are now.</summary>
    public List<SagaRecord> Acquire(string owner, string namesJson, int maxCount, DateTimeOffset now, DateTimeOffset leaseExpiresAt)
    {
        _acqNow.Value = SagaRows.ToTicks(now);
        _acqNames.Value = namesJson;
        _acqLimit.Value = maxCount;
        var rows = new List<long>(Math.Min(maxCount, 256));
        using (SqliteDataReader reader = _acquireSelect.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add(reader.GetInt64(0));
            }
        }

        _acqOwner.Value = owner;
        _acqExpires.Value = SagaRows.ToTicks(leaseExpiresAt);
        var acquired = new List<SagaRecord>(rows.Count);
        foreach (long rowId in rows)
        {
            _acqRow.Value = rowId;
            _ = _acquire.ExecuteNonQuery();
            _readRow.Value = rowId;
            using SqliteDataReader reader = _readSaga.ExecuteReader();
            if (reader.Read())
            {
                acquired.Add(SagaRows.ReadSaga(reader, _path));
            }
        }

        return acquired;
    }

    /// <summary>Extends the leases the owner still holds; returns the ids of the others.</summary>
    public List<string> Renew(string owner, IReadOnlyList<SagaLease> leases, DateTimeOffset leaseExpiresAt)
    {
        _renOwner.Value = owner;
        _renExpires.Value = SagaRows.ToTicks(leaseExpiresAt);
        List<string> lost = [];
        foreach (SagaLease lease in leases)
        {
            _renId.Value = lease.SagaId;
            _renToken.Value = lease.LeaseToken;
            if (_renew.ExecuteNonQuery() != 1)
            {
                lost.Add(lease.SagaId);
            }
        }

        return lost;
    }

    /// <summary>Gives up the leases the owner still holds; ignores the others.</summary>
    public int Release(string owner, IReadOnlyList<SagaLease> leases)
    {
        _relOwner.Value = owner;
        int released = 0;
        foreach (SagaLease lease in leases)
        {
            _relId.Value = lease.SagaId;
            _relToken.Value = lease.LeaseToken;
            released += _release.ExecuteNonQuery();
        }

        return released;
    }

    /// <summary>Applies an operator change when the status matches and no live lease is held.</summary>
    public bool Transition(SagaTransition transition, DateTimeOffset now)
    {
        _trId.Value = transition.SagaId;
        _trExpected.Value = (int)transition.ExpectedStatus;
        _trStatus.Value = (int)transition.Status;
        _trUpdated.Value = SagaRows.ToTicks(transition.UpdatedAt);
        _trNow.Value = SagaRows.ToTicks(now);
        if (_transition.ExecuteScalar() is not long rowId)
        {
            return false;
        }

        _tdRow.Value = rowId;
        _tdProgress.Value = (object?)transition.Progress ?? DBNull.Value;
        _tdError.Value = (object?)transition.Error ?? DBNull.Value;
        ExpectOneRow(_transitionData.ExecuteNonQuery(), transition.SagaId);
        InsertEvents(transition.SagaId, transition.Events);
        return true;
    }

    /// <summary>The names an acquire takes, as the JSON array <c>json_each</c> reads.</summary>
    public static string ToJsonArray(IReadOnlyCollection<string> names)
    {
        var buffer = new ArrayBufferWriter<byte>(16 + (names.Count * 24));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (string name in names)
            {
                ArgumentNullException.ThrowIfNull(name, nameof(names));
                json.WriteStringValue(name);
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public void Dispose()
    {
        foreach (SqliteCommand command in _commands)
        {
            command.Dispose();
        }

        Connection.Dispose();
    }

    /// <summary>A saga row without its data row was damaged outside the library: refuse the write (it rolls back) rather than half-apply it.</summary>
    private void ExpectOneRow(int changed, string sagaId)
    {
        if (changed != 1)
        {
            throw new InvalidOperationException(
                $"The saga store '{_path}' holds a damaged saga '{sagaId}': its row in table '{SqliteSagaSchema.SagasTable}' has no row in " +
                $"'{SqliteSagaSchema.DataTable}'. The row was edited outside the library; the write was rolled back and nothing changed.");
        }
    }

    private void InsertEvents(string sagaId, IReadOnlyList<SagaEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        _evSaga.Value = sagaId;
        for (int i = 0; i < events.Count; i++)
        {
            SagaEvent e = events[i];
            _evSequence.Value = e.Sequence;
            _evKind.Value = (int)e.Kind;
            _evStep.Value = (object?)e.Step ?? DBNull.Value;
            _evAttempt.Value = e.Attempt;
            _evAt.Value = SagaRows.ToTicks(e.At);
            _evDuration.Value = e.Duration is { } duration ? duration.Ticks : (object)DBNull.Value;
            _evDetail.Value = (object?)e.Detail ?? DBNull.Value;
            _evToken.Value = e.LeaseToken;
            _ = _insertEvent.ExecuteNonQuery();
        }
    }

    private SqliteCommand Prepare(string sql, out SqliteParameter[] parameters, params (string Name, SqliteType Type)[] names)
    {
        SqliteCommand command = Connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = CommandTimeoutSeconds;
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
