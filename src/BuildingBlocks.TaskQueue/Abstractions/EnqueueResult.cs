namespace BuildingBlocks.TaskQueue;

/// <summary>The outcome of enqueueing one task.</summary>
/// <param name="TaskId">The id of the new task, or of the existing task with the same unique key.</param>
/// <param name="Created"><see langword="false"/> when a task with the same unique key already existed and nothing was added.</param>
public readonly record struct EnqueueResult(long TaskId, bool Created);
