namespace BuildingBlocks.TaskQueue;

/// <summary>Where a task is in its lifecycle. The numeric values are stored; they never change.</summary>
public enum TaskState
{
    /// <summary>Waiting to be claimed (immediately, or once its run-at time has come).</summary>
    Queued = 0,

    /// <summary>Claimed by a worker that holds a lease on it.</summary>
    Leased = 1,

    /// <summary>Finished successfully. Final.</summary>
    Completed = 2,

    /// <summary>Failed on its last attempt (or permanently); kept for inspection and redrive.</summary>
    DeadLettered = 3,

    /// <summary>Canceled before it finished. Final.</summary>
    Canceled = 4,
}
