using System.Diagnostics.CodeAnalysis;

namespace BuildingBlocks.TaskQueue;

/// <summary>
/// The queue as producers and operators see it: enqueue, cancel, inspect, redrive dead letters, and (for
/// callers that do not use the hosted worker) claim tasks by hand.
/// </summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It is a queue; the name is what users look for.")]
public interface ITaskQueue
{
    /// <summary>Enqueues one task.</summary>
    /// <param name="task">The task.</param>
    /// <param name="cancellationToken">Cancels the call (the task may or may not have been stored).</param>
    /// <returns>The task id, and whether it was created or already existed (same unique key).</returns>
    /// <exception cref="PayloadTooLargeException">The payload is larger than <see cref="TaskQueueOptions.MaxPayloadBytes"/>.</exception>
    /// <exception cref="ArgumentException">The queue name, max attempts or unique key is invalid.</exception>
    ValueTask<EnqueueResult> EnqueueAsync(NewTask task, CancellationToken cancellationToken = default);

    /// <summary>Enqueues one task whose payload is <paramref name="payload"/> serialized with System.Text.Json.</summary>
    /// <typeparam name="TPayload">The payload type; the handler reads it back as this type (no type names are stored).</typeparam>
    /// <param name="queue">The queue name.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="options">Priority, run-at time, max attempts and unique key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task id, and whether it was created.</returns>
    ValueTask<EnqueueResult> EnqueueAsync<TPayload>(string queue, TPayload payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Enqueues many tasks in one transaction: either all of them are stored or none is.</summary>
    /// <param name="tasks">The tasks.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per task, in order.</returns>
    ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<NewTask> tasks, CancellationToken cancellationToken = default);

    /// <summary>Cancels a task: a queued one at once, a running one at its next heartbeat.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    ValueTask<CancelResult> CancelAsync(long taskId, CancellationToken cancellationToken = default);

    /// <summary>Reads one task, whatever its state.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task, or <see langword="null"/> when no task has this id (or it was pruned).</returns>
    ValueTask<TaskSnapshot?> GetAsync(long taskId, CancellationToken cancellationToken = default);

    /// <summary>Lists tasks by queue and state, in id order, a page at a time.</summary>
    /// <param name="query">The filter and page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>At most <see cref="TaskQuery.Limit"/> tasks with ids above <see cref="TaskQuery.AfterId"/>.</returns>
    ValueTask<IReadOnlyList<TaskSnapshot>> ListAsync(TaskQuery query, CancellationToken cancellationToken = default);

    /// <summary>Moves one dead-lettered task back to the queue with a fresh set of attempts.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the task was dead-lettered and is queued again.</returns>
    ValueTask<bool> RedriveAsync(long taskId, CancellationToken cancellationToken = default);

    /// <summary>Moves every dead-lettered task of a queue back to it with a fresh set of attempts.</summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many tasks were redriven.</returns>
    ValueTask<int> RedriveAllAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Counts tasks per queue and state.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One entry per queue that has tasks.</returns>
    ValueTask<IReadOnlyList<QueueStatistics>> GetStatisticsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims up to <paramref name="maxCount"/> due tasks of <paramref name="queue"/> for a caller that runs its own
    /// loop instead of the hosted worker. The caller must heartbeat (before <see cref="TaskQueueOptions.LeaseDuration"/>
    /// passes) and then complete, fail or release each lease.
    /// </summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="maxCount">The most tasks to claim (1 to 1,000).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The leases, highest priority first; empty when nothing is due.</returns>
    ValueTask<IReadOnlyList<TaskLease>> ClaimAsync(string queue, int maxCount, CancellationToken cancellationToken = default);
}
