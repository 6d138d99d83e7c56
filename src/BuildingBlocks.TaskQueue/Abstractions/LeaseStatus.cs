namespace BuildingBlocks.TaskQueue;

/// <summary>What a heartbeat learned about a lease.</summary>
public enum LeaseStatus
{
    /// <summary>The lease is still held and was extended.</summary>
    Active = 0,

    /// <summary>The lease was extended, and someone asked to cancel the task: stop and report it canceled.</summary>
    CancelRequested = 1,

    /// <summary>The lease is no longer ours (it expired and was swept, or another worker claimed the task).</summary>
    Lost = 2,
}
