namespace BuildingBlocks.TaskQueue;

/// <summary>Everything the store knows about one task, read at one moment.</summary>
public sealed class TaskSnapshot
{
    /// <summary>The task id, unique in its store and growing with every enqueue.</summary>
    public required long Id { get; init; }

    /// <summary>The queue name.</summary>
    public required string Queue { get; init; }

    /// <summary>The state.</summary>
    public required TaskState State { get; init; }

    /// <summary>The payload (empty when the query did not ask for payloads).</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>The priority; higher runs first.</summary>
    public int Priority { get; init; }

    /// <summary>How many times the task was claimed (each claim is an attempt, a lost lease included).</summary>
    public int Attempts { get; init; }

    /// <summary>How many attempts the task may use.</summary>
    public int MaxAttempts { get; init; }

    /// <summary>When it was enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>The earliest time it may run next (after a failure: the retry time).</summary>
    public DateTimeOffset RunAt { get; init; }

    /// <summary>The token of the latest lease; grows by one with every claim.</summary>
    public long LeaseToken { get; init; }

    /// <summary>When the current lease expires, when <see cref="State"/> is <see cref="TaskState.Leased"/>.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>The worker that holds or last held the lease.</summary>
    public string? LeasedBy { get; init; }

    /// <summary>Progress details the last attempt attached to a heartbeat.</summary>
    public string? Progress { get; init; }

    /// <summary>The error of the last failed attempt.</summary>
    public string? LastError { get; init; }

    /// <summary>When it completed, was dead-lettered or canceled.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Whether someone asked to cancel it while it was running.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>The deduplication key, if any.</summary>
    public string? UniqueKey { get; init; }
}
