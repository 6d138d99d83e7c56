namespace BuildingBlocks.TaskQueue;

/// <summary>What one sweep of expired leases did.</summary>
/// <param name="Requeued">Tasks returned to the queue (attempts left).</param>
/// <param name="DeadLettered">Tasks dead-lettered because the lost lease was their last attempt.</param>
public readonly record struct SweepResult(int Requeued, int DeadLettered);
