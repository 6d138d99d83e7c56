namespace BuildingBlocks.TaskQueue;

/// <summary>A task to enqueue: the queue it goes to, its payload and how it should be scheduled.</summary>
public sealed class NewTask
{
    /// <summary>Creates a task for <paramref name="queue"/> with a raw payload.</summary>
    /// <param name="queue">The queue name (1 to 200 characters).</param>
    /// <param name="payload">The payload bytes, handed to the handler unchanged.</param>
    public NewTask(string queue, ReadOnlyMemory<byte> payload)
    {
        Queue = queue;
        Payload = payload;
    }

    /// <summary>The queue name; a worker handles it when a handler is registered for it.</summary>
    public string Queue { get; }

    /// <summary>The payload bytes.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Higher runs first among tasks that are due. Default 0.</summary>
    public int Priority { get; init; }

    /// <summary>The earliest time the task may run; <see langword="null"/> means now.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>How many claims the task may use before it is dead-lettered; <see langword="null"/> uses <see cref="TaskQueueOptions.DefaultMaxAttempts"/>.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>
    /// Deduplication key: while a task with this key is retained in the store (any state, until retention prunes it),
    /// enqueueing another one with the same key is a no-op that returns the existing task id.
    /// </summary>
    public string? UniqueKey { get; init; }
}
