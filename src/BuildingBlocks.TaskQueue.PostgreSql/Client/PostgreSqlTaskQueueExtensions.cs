using Npgsql;

namespace BuildingBlocks.TaskQueue.PostgreSql;

/// <summary>
/// Enqueue inside your own <see cref="NpgsqlTransaction"/>: the task is created if and only if your business write
/// commits (the transactional outbox, without an outbox table). Workers hear of it on commit.
/// </summary>
public static class PostgreSqlTaskQueueExtensions
{
    /// <summary>Validates and enqueues one task inside <paramref name="transaction"/>.</summary>
    /// <param name="queue">A queue whose store is <see cref="PostgreSqlTaskStore"/> (<c>UsePostgreSql</c>).</param>
    /// <param name="transaction">The caller's open transaction, on the database the store uses.</param>
    /// <param name="task">The task.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task id, and whether it was created (false: its unique key was taken).</returns>
    /// <exception cref="InvalidOperationException">The queue does not use the PostgreSQL store.</exception>
    public static async ValueTask<EnqueueResult> EnqueueAsync(this ITaskQueue queue, NpgsqlTransaction transaction, NewTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        IReadOnlyList<EnqueueResult> results = await queue.EnqueueBatchAsync(transaction, [task], cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>Serializes a typed payload (System.Text.Json) and enqueues the task inside <paramref name="transaction"/>.</summary>
    /// <typeparam name="TPayload">The payload type.</typeparam>
    /// <param name="queue">A queue whose store is <see cref="PostgreSqlTaskStore"/>.</param>
    /// <param name="transaction">The caller's open transaction, on the database the store uses.</param>
    /// <param name="queueName">The queue name.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="options">Priority, run-at, attempts and unique key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task id, and whether it was created.</returns>
    public static ValueTask<EnqueueResult> EnqueueAsync<TPayload>(
        this ITaskQueue queue, NpgsqlTransaction transaction, string queueName, TPayload payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default) =>
        queue.EnqueueAsync(transaction, Client(queue).CreateTask(queueName, payload, options), cancellationToken);

    /// <summary>Validates and enqueues tasks inside <paramref name="transaction"/>, in order.</summary>
    /// <param name="queue">A queue whose store is <see cref="PostgreSqlTaskStore"/>.</param>
    /// <param name="transaction">The caller's open transaction, on the database the store uses.</param>
    /// <param name="tasks">The tasks.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per task, in order.</returns>
    public static ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(this ITaskQueue queue, NpgsqlTransaction transaction, IReadOnlyList<NewTask> tasks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        TaskQueueClient client = Client(queue);
        if (client.Store is not PostgreSqlTaskStore store)
        {
            throw new InvalidOperationException(
                $"This task queue keeps its tasks in {client.Store.GetType().Name}, not PostgreSQL; enqueue inside an NpgsqlTransaction needs UsePostgreSql.");
        }

        return client.EnqueueBatchAsync(tasks, (inserts, ct) => store.EnqueueAsync(transaction, inserts, ct), cancellationToken);
    }

    private static TaskQueueClient Client(ITaskQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return queue as TaskQueueClient
            ?? throw new InvalidOperationException($"Enqueue inside an NpgsqlTransaction needs the queue from AddTaskQueue (a TaskQueueClient), not {queue.GetType().Name}.");
    }
}
