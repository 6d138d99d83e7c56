namespace BuildingBlocks.TaskQueue;

/// <summary>A task a worker has just claimed, with the lease that proves it.</summary>
public sealed class LeasedTask
{
    /// <summary>The task id.</summary>
    public required long Id { get; init; }

    /// <summary>The queue name.</summary>
    public required string Queue { get; init; }

    /// <summary>The payload bytes.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>The priority.</summary>
    public int Priority { get; init; }

    /// <summary>This attempt's number, starting at 1.</summary>
    public required int Attempt { get; init; }

    /// <summary>How many attempts the task may use.</summary>
    public required int MaxAttempts { get; init; }

    /// <summary>The lease token: heartbeat, complete, fail and release must present it.</summary>
    public required long LeaseToken { get; init; }

    /// <summary>When the lease expires unless a heartbeat extends it.</summary>
    public required DateTimeOffset LeaseExpiresAt { get; init; }

    /// <summary>When it was enqueued.</summary>
    public required DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>The run-at time it was due at (pickup latency is measured from the later of this and <see cref="EnqueuedAt"/>).</summary>
    public required DateTimeOffset RunAt { get; init; }

    /// <summary>When this claim happened.</summary>
    public required DateTimeOffset ClaimedAt { get; init; }

    /// <summary>Progress an earlier attempt attached to a heartbeat, so this attempt can resume from it.</summary>
    public string? Progress { get; init; }

    /// <summary>The error of the previous failed attempt, if any.</summary>
    public string? LastError { get; init; }

    /// <summary>The deduplication key, if any.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>The W3C trace parent of the producer, if it was traced.</summary>
    public string? TraceParent { get; init; }
}
