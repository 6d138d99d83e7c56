using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>
/// Reads saga and history rows. Every value is checked: a status or kind that is not an enum value, or a time or number
/// out of range, gives an <see cref="InvalidOperationException"/> naming the table, the saga and the column.
/// </summary>
internal static class SagaRows
{
    /// <summary>The columns of a saga, in the order <see cref="ReadSaga"/> expects, from <see cref="SagaFrom"/>.</summary>
    public const string SagaColumns =
        "s.id, s.name, s.version, s.status, d.data, d.progress, d.error, s.created_at, s.updated_at, s.lease_owner, s.lease_token, s.lease_expires_at";

    /// <summary>A saga's two rows (a missing data row reads as NULLs, reported as damage rather than hiding the saga).</summary>
    public const string SagaFrom = "sagas AS s LEFT JOIN saga_data AS d ON d.row_id = s.row_id";

    /// <summary>The columns of a history line, in the order <see cref="ReadEvent"/> expects.</summary>
    public const string EventColumns = "sequence, kind, step, attempt, at, duration, detail, lease_token";

    private const long MaxTicks = 3155378975999999999; // DateTimeOffset.MaxValue.UtcTicks

    public static SagaRecord ReadSaga(SqliteDataReader reader, string path)
    {
        string id = reader.GetString(0);
        long status = reader.GetInt64(3);
        if (status is < 0 or > int.MaxValue || !Enum.IsDefined((SagaStatus)(int)status))
        {
            throw Corrupt(path, SqliteSagaSchema.SagasTable, id, "status", $"{status} is not a SagaStatus value");
        }

        if (reader.IsDBNull(4) || reader.IsDBNull(5))
        {
            throw Corrupt(path, SqliteSagaSchema.DataTable, id, "data", "is missing (the saga has no saga_data row)");
        }

        return new SagaRecord
        {
            Id = id,
            Name = reader.GetString(1),
            Version = ToInt32(reader.GetInt64(2), path, SqliteSagaSchema.SagasTable, id, "version"),
            Status = (SagaStatus)(int)status,
            Data = reader.GetString(4),
            Progress = reader.GetString(5),
            Error = reader.IsDBNull(6) ? null : reader.GetString(6),
            CreatedAt = ToTime(reader.GetInt64(7), path, SqliteSagaSchema.SagasTable, id, "created_at"),
            UpdatedAt = ToTime(reader.GetInt64(8), path, SqliteSagaSchema.SagasTable, id, "updated_at"),
            LeaseOwner = reader.IsDBNull(9) ? null : reader.GetString(9),
            LeaseToken = reader.GetInt64(10),
            LeaseExpiresAt = reader.IsDBNull(11) ? null : ToTime(reader.GetInt64(11), path, SqliteSagaSchema.SagasTable, id, "lease_expires_at"),
        };
    }

    public static SagaEvent ReadEvent(SqliteDataReader reader, string sagaId, string path)
    {
        long sequence = reader.GetInt64(0);
        long kind = reader.GetInt64(1);
        if (kind is < 0 or > int.MaxValue || !Enum.IsDefined((SagaEventKind)(int)kind))
        {
            throw Corrupt(path, SqliteSagaSchema.EventsTable, sagaId, "kind", $"{kind} (line {sequence}) is not a SagaEventKind value");
        }

        return new SagaEvent
        {
            Sequence = sequence,
            Kind = (SagaEventKind)(int)kind,
            Step = reader.IsDBNull(2) ? null : reader.GetString(2),
            Attempt = ToInt32(reader.GetInt64(3), path, SqliteSagaSchema.EventsTable, sagaId, "attempt"),
            At = ToTime(reader.GetInt64(4), path, SqliteSagaSchema.EventsTable, sagaId, "at"),
            Duration = reader.IsDBNull(5) ? null : TimeSpan.FromTicks(reader.GetInt64(5)),
            Detail = reader.IsDBNull(6) ? null : reader.GetString(6),
            LeaseToken = reader.GetInt64(7),
        };
    }

    /// <summary>A time as stored: UTC ticks.</summary>
    public static long ToTicks(DateTimeOffset time) => time.UtcTicks;

    private static DateTimeOffset ToTime(long ticks, string path, string table, string id, string column) =>
        ticks is >= 0 and <= MaxTicks
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : throw Corrupt(path, table, id, column, $"{ticks} is not a valid UTC tick count");

    private static int ToInt32(long value, string path, string table, string id, string column) =>
        value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Corrupt(path, table, id, column, $"{value} does not fit in a 32-bit integer");

    private static InvalidOperationException Corrupt(string path, string table, string id, string column, string problem) =>
        new($"The saga store '{path}' holds a damaged row in table '{table}' for saga '{id}': column '{column}' {problem}. " +
            "No version of BuildingBlocks.Sagas.Sqlite writes such a value; the row was edited outside the library. It was left as it is.");
}
