using System.Runtime.InteropServices;
using BuildingBlocks.TaskQueue;
using Npgsql;
using NpgsqlTypes;

namespace BuildingBlocks.Benchmarks.PostgreSql;

/// <summary>
/// The floor the enqueue figures are read against: the fewest round trips Npgsql needs to store tasks in the same
/// <c>tasks</c> table (same columns and indexes, made by <see cref="BuildingBlocks.TaskQueue.PostgreSql.PostgreSqlTaskStore"/>)
/// and wake listeners, with no validation, no ids read back from a COPY, no error translation. A single task is one
/// round trip for <c>INSERT … RETURNING id</c> and <c>pg_notify</c> together, plus the commit; a batch is one binary
/// COPY whose ids come from the table's identity default, plus <c>pg_notify</c> and the commit.
/// </summary>
internal sealed class RawPostgreSqlQueue(NpgsqlDataSource dataSource, string schema, string channel)
{
    private readonly string _insert =
        $"INSERT INTO \"{schema}\".tasks (queue, state, payload, priority, max_attempts, enqueued_at, run_at) " +
        "VALUES ($1, 0, $2, 0, 5, $3, $3) RETURNING id;";

    private readonly string _copy =
        $"COPY \"{schema}\".tasks (queue, state, payload, priority, max_attempts, enqueued_at, run_at) FROM STDIN (FORMAT BINARY)";

    public async Task<long> InsertAsync(NewTask task)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        long id;
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            var insert = new NpgsqlBatchCommand(_insert);
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = task.Queue });
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Bytes(task.Payload) });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            batch.BatchCommands.Add(insert);
            batch.BatchCommands.Add(Notify(task.Queue));
            await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync();
            await reader.ReadAsync();
            id = reader.GetInt64(0);
        }

        await transaction.CommitAsync();
        return id;
    }

    public async Task CopyAsync(NewTask[] tasks)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (NpgsqlBinaryImporter writer = await connection.BeginBinaryImportAsync(_copy))
        {
            foreach (NewTask task in tasks)
            {
                writer.StartRow();
                writer.Write(task.Queue, NpgsqlDbType.Text);
                writer.Write((short)0, NpgsqlDbType.Smallint);
                writer.Write(Bytes(task.Payload), NpgsqlDbType.Bytea);
                writer.Write(0, NpgsqlDbType.Integer);
                writer.Write(5, NpgsqlDbType.Integer);
                writer.Write(now, NpgsqlDbType.TimestampTz);
                writer.Write(now, NpgsqlDbType.TimestampTz);
            }

            _ = await writer.CompleteAsync();
        }

        await using (var notify = new NpgsqlBatch(connection, transaction))
        {
            notify.BatchCommands.Add(Notify(tasks[0].Queue));
            _ = await notify.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private static byte[] Bytes(ReadOnlyMemory<byte> payload) =>
        MemoryMarshal.TryGetArray(payload, out ArraySegment<byte> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();

    private NpgsqlBatchCommand Notify(string queue)
    {
        var notify = new NpgsqlBatchCommand("SELECT pg_notify($1, $2);");
        notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel });
        notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queue });
        return notify;
    }
}
