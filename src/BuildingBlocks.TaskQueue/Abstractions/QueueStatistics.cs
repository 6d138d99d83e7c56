namespace BuildingBlocks.TaskQueue;

/// <summary>Task counts of one queue.</summary>
public sealed class QueueStatistics
{
    /// <summary>The queue name.</summary>
    public required string Queue { get; init; }

    /// <summary>Queued tasks that are due now.</summary>
    public long Ready { get; init; }

    /// <summary>Queued tasks whose run-at time is still ahead (delayed or waiting to retry).</summary>
    public long Scheduled { get; init; }

    /// <summary>Tasks held by a worker.</summary>
    public long Leased { get; init; }

    /// <summary>Leased tasks whose lease has expired and that the sweeper has not returned yet.</summary>
    public long ExpiredLeases { get; init; }

    /// <summary>Completed tasks not yet pruned.</summary>
    public long Completed { get; init; }

    /// <summary>Dead-lettered tasks.</summary>
    public long DeadLettered { get; init; }

    /// <summary>Canceled tasks not yet pruned.</summary>
    public long Canceled { get; init; }

    /// <summary>The run-at time of the oldest due task: how long the queue has kept someone waiting.</summary>
    public DateTimeOffset? OldestReadyRunAt { get; init; }
}
