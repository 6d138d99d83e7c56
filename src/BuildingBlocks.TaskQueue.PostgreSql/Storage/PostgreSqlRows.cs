using Npgsql;

namespace BuildingBlocks.TaskQueue.PostgreSql;

/// <summary>
/// Reads task rows. The table's types and CHECK constraints keep the values in range; the state is still checked so a
/// row edited by hand into something no version writes is reported with its id instead of misread.
/// </summary>
internal static class PostgreSqlRows
{
    /// <summary>The columns of a snapshot, in the order <see cref="ReadSnapshot"/> expects.</summary>
    public const string SnapshotColumns =
        "id, queue, state, payload, priority, attempts, max_attempts, enqueued_at, run_at, lease_token, " +
        "lease_expires_at, leased_by, progress, last_error, finished_at, cancel_requested, unique_key";

    /// <summary>As <see cref="SnapshotColumns"/>, with an empty payload.</summary>
    public const string SnapshotColumnsWithoutPayload =
        "id, queue, state, ''::bytea AS payload, priority, attempts, max_attempts, enqueued_at, run_at, lease_token, " +
        "lease_expires_at, leased_by, progress, last_error, finished_at, cancel_requested, unique_key";

    /// <summary>The columns a claim returns (prefixed with the table alias <c>t</c>), in the order <see cref="ReadLeased"/> expects.</summary>
    public const string LeasedColumns =
        "t.id, t.queue, t.payload, t.priority, t.attempts, t.max_attempts, t.lease_token, t.enqueued_at, t.run_at, t.progress, t.last_error, t.unique_key, t.trace_parent";

    public static TaskSnapshot ReadSnapshot(NpgsqlDataReader reader)
    {
        long id = reader.GetInt64(0);
        TaskState state = ReadState(reader.GetInt16(2), id);
        return new TaskSnapshot
        {
            Id = id,
            Queue = reader.GetString(1),
            State = state,
            Payload = reader.GetFieldValue<byte[]>(3),
            Priority = reader.GetInt32(4),
            Attempts = reader.GetInt32(5),
            MaxAttempts = reader.GetInt32(6),
            EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(7),
            RunAt = reader.GetFieldValue<DateTimeOffset>(8),
            LeaseToken = reader.GetInt64(9),
            LeaseExpiresAt = state == TaskState.Leased ? OptionalTime(reader, 10) : null,
            LeasedBy = OptionalString(reader, 11),
            Progress = OptionalString(reader, 12),
            LastError = OptionalString(reader, 13),
            FinishedAt = OptionalTime(reader, 14),
            CancelRequested = reader.GetBoolean(15),
            UniqueKey = OptionalString(reader, 16),
        };
    }

    public static LeasedTask ReadLeased(NpgsqlDataReader reader, DateTimeOffset claimedAt, DateTimeOffset leaseExpiresAt) => new()
    {
        Id = reader.GetInt64(0),
        Queue = reader.GetString(1),
        Payload = reader.GetFieldValue<byte[]>(2),
        Priority = reader.GetInt32(3),
        Attempt = reader.GetInt32(4),
        MaxAttempts = reader.GetInt32(5),
        LeaseToken = reader.GetInt64(6),
        LeaseExpiresAt = leaseExpiresAt,
        EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(7),
        RunAt = reader.GetFieldValue<DateTimeOffset>(8),
        ClaimedAt = claimedAt,
        Progress = OptionalString(reader, 9),
        LastError = OptionalString(reader, 10),
        UniqueKey = OptionalString(reader, 11),
        TraceParent = OptionalString(reader, 12),
    };

    public static TaskState ReadState(short value, long id) =>
        Enum.IsDefined((TaskState)value)
            ? (TaskState)value
            : throw new CorruptTaskException(id, "state", $"{value} is not a TaskState value (0 to 4)");

    private static DateTimeOffset? OptionalTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static string? OptionalString(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
