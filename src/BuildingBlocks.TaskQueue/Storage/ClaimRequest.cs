namespace BuildingBlocks.TaskQueue;

/// <summary>What a worker asks the store for: up to <see cref="MaxCount"/> due tasks of one queue, leased to it.</summary>
/// <param name="Queue">The queue name.</param>
/// <param name="WorkerId">Who claims (stored for operators).</param>
/// <param name="MaxCount">The most tasks to claim, 1 or more.</param>
/// <param name="LeaseDuration">How long the lease lasts unless a heartbeat extends it.</param>
public readonly record struct ClaimRequest(string Queue, string WorkerId, int MaxCount, TimeSpan LeaseDuration);
