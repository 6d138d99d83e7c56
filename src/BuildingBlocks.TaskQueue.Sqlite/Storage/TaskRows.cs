using Microsoft.Data.Sqlite;

namespace BuildingBlocks.TaskQueue.Sqlite;

/// <summary>
/// Reads task rows. Every value is checked: a row whose state is not a <see cref="TaskState"/>, whose required column is
/// NULL or whose time is out of range gives a <see cref="CorruptTaskException"/> naming the row and the column.
/// </summary>
internal static class TaskRows
{
    /// <summary>The columns of a snapshot, in the order <see cref="ReadSnapshot"/> expects.</summary>
    public const string SnapshotColumns =
        "id, queue, state, payload, priority, attempts, max_attempts, enqueued_at, run_at, lease_token, " +
        "lease_expires_at, leased_by, progress, last_error, finished_at, cancel_requested, unique_key";

    /// <summary>As <see cref="SnapshotColumns"/>, with an empty blob in place of the payload.</summary>
    public const string SnapshotColumnsWithoutPayload =
        "id, queue, state, x'' AS payload, priority, attempts, max_attempts, enqueued_at, run_at, lease_token, " +
        "lease_expires_at, leased_by, progress, last_error, finished_at, cancel_requested, unique_key";

    /// <summary>The columns a claim returns, in the order <see cref="ReadLeased"/> expects.</summary>
    public const string LeasedColumns =
        "id, queue, payload, priority, attempts, max_attempts, lease_token, enqueued_at, run_at, progress, last_error, unique_key, trace_parent";

    public static TaskSnapshot ReadSnapshot(SqliteDataReader reader)
    {
        long id = reader.GetInt64(0);
        TaskState state = ReadState(reader, 2, id);
        return new TaskSnapshot
        {
            Id = id,
            Queue = RequiredString(reader, 1, id),
            State = state,
            Payload = RequiredBlob(reader, 3, id),
            Priority = RequiredInt32(reader, 4, id),
            Attempts = RequiredInt32(reader, 5, id),
            MaxAttempts = RequiredInt32(reader, 6, id),
            EnqueuedAt = RequiredTime(reader, 7, id),
            RunAt = RequiredTime(reader, 8, id),
            LeaseToken = RequiredInt64(reader, 9, id),
            LeaseExpiresAt = state == TaskState.Leased ? OptionalTime(reader, 10, id) : null,
            LeasedBy = OptionalString(reader, 11),
            Progress = OptionalString(reader, 12),
            LastError = OptionalString(reader, 13),
            FinishedAt = OptionalTime(reader, 14, id),
            CancelRequested = RequiredInt64(reader, 15, id) != 0,
            UniqueKey = OptionalString(reader, 16),
        };
    }

    public static LeasedTask ReadLeased(SqliteDataReader reader, DateTimeOffset claimedAt, DateTimeOffset leaseExpiresAt)
    {
        long id = reader.GetInt64(0);
        return new LeasedTask
        {
            Id = id,
            Queue = RequiredString(reader, 1, id),
            Payload = RequiredBlob(reader, 2, id),
            Priority = RequiredInt32(reader, 3, id),
            Attempt = RequiredInt32(reader, 4, id),
            MaxAttempts = RequiredInt32(reader, 5, id),
            LeaseToken = RequiredInt64(reader, 6, id),
            LeaseExpiresAt = leaseExpiresAt,
            EnqueuedAt = RequiredTime(reader, 7, id),
            RunAt = RequiredTime(reader, 8, id),
            ClaimedAt = claimedAt,
            Progress = OptionalString(reader, 9),
            LastError = OptionalString(reader, 10),
            UniqueKey = OptionalString(reader, 11),
            TraceParent = OptionalString(reader, 12),
        };
    }

    /// <summary>Reads a state column, refusing values that are not a <see cref="TaskState"/>.</summary>
    public static TaskState ReadState(SqliteDataReader reader, int ordinal, long id)
    {
        long value = RequiredInt64(reader, ordinal, id);
        if (value is < 0 or > int.MaxValue || !Enum.IsDefined((TaskState)(int)value))
        {
            throw new CorruptTaskException(id, reader.GetName(ordinal), $"{value} is not a TaskState value (0 to 4)");
        }

        return (TaskState)(int)value;
    }

    public static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    private static long RequiredInt64(SqliteDataReader reader, int ordinal, long id)
    {
        ThrowIfNull(reader, ordinal, id);
        if (reader.GetFieldType(ordinal) != typeof(long))
        {
            throw new CorruptTaskException(id, reader.GetName(ordinal), $"'{reader.GetValue(ordinal)}' is not an integer");
        }

        return reader.GetInt64(ordinal);
    }

    private static int RequiredInt32(SqliteDataReader reader, int ordinal, long id)
    {
        long value = RequiredInt64(reader, ordinal, id);
        return value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw new CorruptTaskException(id, reader.GetName(ordinal), $"{value} does not fit in a 32-bit integer");
    }

    private static DateTimeOffset RequiredTime(SqliteDataReader reader, int ordinal, long id) =>
        ToTime(reader, ordinal, id, RequiredInt64(reader, ordinal, id));

    private static DateTimeOffset? OptionalTime(SqliteDataReader reader, int ordinal, long id) =>
        reader.IsDBNull(ordinal) ? null : ToTime(reader, ordinal, id, RequiredInt64(reader, ordinal, id));

    private static DateTimeOffset ToTime(SqliteDataReader reader, int ordinal, long id, long ticks) =>
        ticks is >= 0 and <= 3155378975999999999 // DateTimeOffset.MaxValue.UtcTicks
            ? FromTicks(ticks)
            : throw new CorruptTaskException(id, reader.GetName(ordinal), $"{ticks} is not a valid UTC tick count");

    private static string RequiredString(SqliteDataReader reader, int ordinal, long id)
    {
        ThrowIfNull(reader, ordinal, id);
        return reader.GetString(ordinal);
    }

    private static string? OptionalString(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static byte[] RequiredBlob(SqliteDataReader reader, int ordinal, long id)
    {
        ThrowIfNull(reader, ordinal, id);
        return reader.GetFieldValue<byte[]>(ordinal);
    }

    private static void ThrowIfNull(SqliteDataReader reader, int ordinal, long id)
    {
        if (reader.IsDBNull(ordinal))
        {
            throw new CorruptTaskException(id, reader.GetName(ordinal), "it is NULL but the column is required");
        }
    }
}
