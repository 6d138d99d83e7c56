using Microsoft.Data.Sqlite;

namespace BuildingBlocks.TaskQueue.Sqlite;

/// <summary>
/// Per-queue counts from the three partial indexes, never the table: queued rows from the claim index, leased rows
/// from the lease index, finished rows from the finished index. Run inside one read transaction so the numbers agree.
/// A row whose state is not a <see cref="TaskState"/> counts nowhere (<see cref="SqliteTaskStore.GetAsync"/> reports it).
/// </summary>
internal static class StatisticsQuery
{
    private const string QueuedSql =
        "SELECT queue, COUNT(*), COUNT(CASE WHEN run_at <= $now THEN 1 END), MIN(CASE WHEN run_at <= $now THEN run_at END) " +
        "FROM tasks INDEXED BY ix_tasks_claim WHERE state = 0 GROUP BY queue;";

    private const string LeasedSql =
        "SELECT queue, COUNT(*), COUNT(CASE WHEN lease_expires_at <= $now THEN 1 END) " +
        "FROM tasks INDEXED BY ix_tasks_lease WHERE state = 1 GROUP BY queue;";

    private const string FinishedSql =
        "SELECT queue, state, COUNT(*) FROM tasks INDEXED BY ix_tasks_finished WHERE finished_at IS NOT NULL GROUP BY queue, state;";

    public static IReadOnlyList<QueueStatistics> Read(SqliteConnection connection, DateTimeOffset now)
    {
        Dictionary<string, Counts> queues = new(StringComparer.Ordinal);
        long nowTicks = now.UtcTicks;

        using (SqliteCommand command = Create(connection, QueuedSql, nowTicks))
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                Counts counts = Get(queues, reader.GetString(0));
                counts.Ready = reader.GetInt64(2);
                counts.Scheduled = reader.GetInt64(1) - counts.Ready;
                counts.OldestReadyRunAt = reader.IsDBNull(3) ? null : TaskRows.FromTicks(reader.GetInt64(3));
            }
        }

        using (SqliteCommand command = Create(connection, LeasedSql, nowTicks))
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                Counts counts = Get(queues, reader.GetString(0));
                counts.Leased = reader.GetInt64(1);
                counts.ExpiredLeases = reader.GetInt64(2);
            }
        }

        using (SqliteCommand command = Create(connection, FinishedSql, nowTicks: null))
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                Counts counts = Get(queues, reader.GetString(0));
                long count = reader.GetInt64(2);
                switch (reader.GetInt64(1))
                {
                    case (long)TaskState.Completed: counts.Completed += count; break;
                    case (long)TaskState.DeadLettered: counts.DeadLettered += count; break;
                    case (long)TaskState.Canceled: counts.Canceled += count; break;
                    default: break;
                }
            }
        }

        return [.. queues
            .Where(q => q.Value.Any)
            .OrderBy(q => q.Key, StringComparer.Ordinal)
            .Select(q => new QueueStatistics
            {
                Queue = q.Key,
                Ready = q.Value.Ready,
                Scheduled = q.Value.Scheduled,
                Leased = q.Value.Leased,
                ExpiredLeases = q.Value.ExpiredLeases,
                Completed = q.Value.Completed,
                DeadLettered = q.Value.DeadLettered,
                Canceled = q.Value.Canceled,
                OldestReadyRunAt = q.Value.OldestReadyRunAt,
            })];
    }

    private static SqliteCommand Create(SqliteConnection connection, string sql, long? nowTicks)
    {
        SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        if (nowTicks is { } ticks)
        {
            command.Parameters.AddWithValue("$now", ticks);
        }

        return command;
    }

    private static Counts Get(Dictionary<string, Counts> queues, string queue)
    {
        if (!queues.TryGetValue(queue, out Counts? counts))
        {
            counts = new Counts();
            queues.Add(queue, counts);
        }

        return counts;
    }

    private sealed class Counts
    {
        public long Ready { get; set; }

        public long Scheduled { get; set; }

        public long Leased { get; set; }

        public long ExpiredLeases { get; set; }

        public long Completed { get; set; }

        public long DeadLettered { get; set; }

        public long Canceled { get; set; }

        public DateTimeOffset? OldestReadyRunAt { get; set; }

        public bool Any => Ready + Scheduled + Leased + Completed + DeadLettered + Canceled > 0;
    }
}
