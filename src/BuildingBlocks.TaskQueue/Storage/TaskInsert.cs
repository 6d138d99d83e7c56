namespace BuildingBlocks.TaskQueue;

/// <summary>A validated task as the store writes it: every default resolved, every time set.</summary>
public sealed class TaskInsert
{
    /// <summary>The queue name.</summary>
    public required string Queue { get; init; }

    /// <summary>The payload bytes.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>The priority; higher runs first.</summary>
    public required int Priority { get; init; }

    /// <summary>When it was enqueued.</summary>
    public required DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>The earliest time it may run.</summary>
    public required DateTimeOffset RunAt { get; init; }

    /// <summary>How many attempts it may use (1 or more).</summary>
    public required int MaxAttempts { get; init; }

    /// <summary>The deduplication key, if any.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>The W3C trace parent of the producer, so the run links back to it.</summary>
    public string? TraceParent { get; init; }
}
