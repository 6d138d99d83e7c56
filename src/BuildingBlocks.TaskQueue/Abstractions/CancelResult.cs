namespace BuildingBlocks.TaskQueue;

/// <summary>The outcome of <see cref="ITaskQueue.CancelAsync"/>.</summary>
public enum CancelResult
{
    /// <summary>No task has this id.</summary>
    NotFound = 0,

    /// <summary>The task was queued and is now canceled; it will not run.</summary>
    Canceled = 1,

    /// <summary>The task is running: its handler's cancellation token fires at the next heartbeat, then the task is canceled.</summary>
    CancelRequested = 2,

    /// <summary>The task had already completed, been canceled or dead-lettered; nothing changed.</summary>
    AlreadyFinished = 3,
}
