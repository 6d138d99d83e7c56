namespace BuildingBlocks.TaskQueue;

/// <summary>Runs the tasks of one queue. Resolved from a fresh DI scope for every task.</summary>
public interface ITaskHandler
{
    /// <summary>Runs one attempt of a task. Return to complete it; throw to fail the attempt (it is retried with backoff).</summary>
    /// <param name="context">The task, its payload and its lease.</param>
    /// <param name="cancellationToken">
    /// Fires when the lease is lost, the task is canceled, the attempt times out or the host stops: stop promptly.
    /// </param>
    /// <returns>A task that completes when the attempt is done.</returns>
    ValueTask HandleAsync(TaskContext context, CancellationToken cancellationToken);
}
