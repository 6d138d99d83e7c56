using Microsoft.Extensions.Logging;

namespace BuildingBlocks.TaskQueue;

/// <summary>Log messages; event ids are stable and listed in docs/diagnostics.md.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2000, EventName = "WorkerStarted", Level = LogLevel.Information,
        Message = "Task queue '{Name}' worker {WorkerId} started on {Store}: {QueueCount} queues ({Queues}).")]
    public static partial void WorkerStarted(ILogger logger, string name, string workerId, string store, int queueCount, string queues);

    [LoggerMessage(EventId = 2001, EventName = "TaskFailed", Level = LogLevel.Warning,
        Message = "Task {TaskId} of queue '{Queue}' failed on attempt {Attempt} of {MaxAttempts}; retrying at {RetryAt:O}.")]
    public static partial void TaskFailed(ILogger logger, Exception exception, long taskId, string queue, int attempt, int maxAttempts, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 2002, EventName = "TaskDeadLettered", Level = LogLevel.Error,
        Message = "Task {TaskId} of queue '{Queue}' was dead-lettered after attempt {Attempt} of {MaxAttempts}.")]
    public static partial void TaskDeadLettered(ILogger logger, Exception exception, long taskId, string queue, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 2003, EventName = "LeaseLost", Level = LogLevel.Warning,
        Message = "Task {TaskId} of queue '{Queue}': the lease (token {LeaseToken}) was lost before '{Operation}'; the result of this attempt was discarded and another attempt owns the task.")]
    public static partial void LeaseLost(ILogger logger, long taskId, string queue, long leaseToken, string operation);

    [LoggerMessage(EventId = 2004, EventName = "LeasesRecovered", Level = LogLevel.Warning,
        Message = "Task queue '{Name}': {Requeued} expired leases returned to their queues, {DeadLettered} dead-lettered (their workers stopped heartbeating).")]
    public static partial void LeasesRecovered(ILogger logger, string name, int requeued, int deadLettered);

    [LoggerMessage(EventId = 2005, EventName = "TasksPruned", Level = LogLevel.Debug,
        Message = "Task queue '{Name}': {Count} finished tasks pruned by retention.")]
    public static partial void TasksPruned(ILogger logger, string name, int count);

    [LoggerMessage(EventId = 2006, EventName = "StoreError", Level = LogLevel.Error,
        Message = "Task queue '{Name}': the store failed during '{Operation}'; retrying in {DelayMilliseconds} ms.")]
    public static partial void StoreError(ILogger logger, Exception exception, string name, string operation, double delayMilliseconds);

    [LoggerMessage(EventId = 2007, EventName = "TaskCanceled", Level = LogLevel.Information,
        Message = "Task {TaskId} of queue '{Queue}' was canceled while running.")]
    public static partial void TaskCanceled(ILogger logger, long taskId, string queue);

    [LoggerMessage(EventId = 2008, EventName = "HandlerAbandoned", Level = LogLevel.Error,
        Message = "Task {TaskId} of queue '{Queue}': the handler ignored cancellation after its timeout of {Timeout}; heartbeats stopped so the lease expires and another worker takes the task.")]
    public static partial void HandlerAbandoned(ILogger logger, long taskId, string queue, TimeSpan timeout);

    [LoggerMessage(EventId = 2009, EventName = "ShutdownReleased", Level = LogLevel.Warning,
        Message = "Task queue '{Name}' is stopping: {Count} tasks still running after {Timeout} were canceled and handed back without using an attempt.")]
    public static partial void ShutdownReleased(ILogger logger, string name, int count, TimeSpan timeout);

    [LoggerMessage(EventId = 2010, EventName = "WorkerStopped", Level = LogLevel.Information,
        Message = "Task queue '{Name}' worker {WorkerId} stopped.")]
    public static partial void WorkerStopped(ILogger logger, string name, string workerId);
}
