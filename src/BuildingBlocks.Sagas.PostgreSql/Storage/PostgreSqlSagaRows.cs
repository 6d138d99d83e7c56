using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql;

/// <summary>
/// Reads saga and history rows. The table's types and CHECK constraints keep the values in range; the enums are still
/// checked so a row edited by hand into something no version writes is reported with its saga id instead of misread.
/// </summary>
internal static class PostgreSqlSagaRows
{
    /// <summary>The columns of a saga, in the order <see cref="ReadSaga"/> expects (prefix with a table alias where needed).</summary>
    public const string SagaColumns =
        "id, name, version, status, data, progress, error, created_at, updated_at, lease_owner, lease_token, lease_expires_at";

    /// <summary>As <see cref="SagaColumns"/>, qualified with the table alias <c>t</c>.</summary>
    public const string SagaColumnsOfT =
        "t.id, t.name, t.version, t.status, t.data, t.progress, t.error, t.created_at, t.updated_at, t.lease_owner, t.lease_token, t.lease_expires_at";

    /// <summary>The columns of a history line, in the order <see cref="ReadEvent"/> expects.</summary>
    public const string EventColumns = "sequence, kind, step, attempt, at, duration, detail, lease_token";

    public static SagaRecord ReadSaga(NpgsqlDataReader reader)
    {
        string id = reader.GetString(0);
        short status = reader.GetInt16(3);
        return new SagaRecord
        {
            Id = id,
            Name = reader.GetString(1),
            Version = reader.GetInt32(2),
            Status = Enum.IsDefined((SagaStatus)status)
                ? (SagaStatus)status
                : throw Corrupt(id, "sagas.status", $"{status} is not a SagaStatus value"),
            Data = reader.GetString(4),
            Progress = reader.GetString(5),
            Error = OptionalString(reader, 6),
            CreatedAt = reader.GetFieldValue<DateTimeOffset>(7),
            UpdatedAt = reader.GetFieldValue<DateTimeOffset>(8),
            LeaseOwner = OptionalString(reader, 9),
            LeaseToken = reader.GetInt64(10),
            LeaseExpiresAt = reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
        };
    }

    public static SagaEvent ReadEvent(NpgsqlDataReader reader, string sagaId)
    {
        short kind = reader.GetInt16(1);
        return new SagaEvent
        {
            Sequence = reader.GetInt64(0),
            Kind = Enum.IsDefined((SagaEventKind)kind)
                ? (SagaEventKind)kind
                : throw Corrupt(sagaId, "saga_events.kind", $"{kind} is not a SagaEventKind value (line {reader.GetInt64(0)})"),
            Step = OptionalString(reader, 2),
            Attempt = reader.GetInt32(3),
            At = reader.GetFieldValue<DateTimeOffset>(4),
            Duration = reader.IsDBNull(5) ? null : TimeSpan.FromTicks(reader.GetInt64(5)),
            Detail = OptionalString(reader, 6),
            LeaseToken = reader.GetInt64(7),
        };
    }

    private static InvalidOperationException Corrupt(string sagaId, string column, string problem) =>
        new($"Saga '{sagaId}' cannot be read: column {column} holds {problem}. The row was changed outside this package or by a newer version of it.");

    private static string? OptionalString(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
