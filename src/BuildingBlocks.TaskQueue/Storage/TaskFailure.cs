namespace BuildingBlocks.TaskQueue;

/// <summary>How a failed attempt ends: retry at a time, or dead-letter.</summary>
/// <param name="Error">The error text kept with the task (exception type and message).</param>
/// <param name="RetryAt">When to try again; <see langword="null"/> dead-letters the task.</param>
public readonly record struct TaskFailure(string Error, DateTimeOffset? RetryAt);
