namespace BuildingBlocks.TaskQueue;

/// <summary>
/// Where tasks live. Implementations: <see cref="InMemoryTaskStore"/> (this package), SQLite and PostgreSQL (their
/// own packages). Every implementation passes the same conformance suite. The rules every store keeps:
/// <list type="bullet">
/// <item>A claim moves due queued tasks (run-at ≤ now) to <see cref="TaskState.Leased"/>, highest priority first, then
/// earliest run-at, then lowest id; increments the attempt count and the lease token; sets the lease expiry.</item>
/// <item>Heartbeat, complete, fail, release and acknowledge-cancel succeed only while the task is leased with the
/// presented token; otherwise they change nothing and report the lease lost.</item>
/// <item>A batch enqueue is one transaction; a unique key already present returns the existing id.</item>
/// <item>A cancel request on a leased task is honoured when the attempt ends without completing: a failure with a
/// retry time, a release and an expired lease all end the task <see cref="TaskState.Canceled"/> instead of queuing it
/// again (a failure without retry time still dead-letters it, keeping its error).</item>
/// <item>Times come from the store's <see cref="TimeProvider"/>.</item>
/// </list>
/// </summary>
public interface ITaskStore
{
    /// <summary>Stores tasks in one transaction.</summary>
    /// <param name="tasks">The tasks, already validated.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per task, in order.</returns>
    ValueTask<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken);

    /// <summary>Leases up to <see cref="ClaimRequest.MaxCount"/> due tasks of one queue.</summary>
    /// <param name="request">The claim.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The claimed tasks in claim order; empty when none is due.</returns>
    ValueTask<IReadOnlyList<LeasedTask>> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken);

    /// <summary>Extends a lease to now + <paramref name="leaseDuration"/> and stores progress when given.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="leaseToken">The lease token.</param>
    /// <param name="leaseDuration">The new lease length from now.</param>
    /// <param name="progress">Progress details to keep, or <see langword="null"/> to keep what is there.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease status (lost: nothing changed).</returns>
    ValueTask<LeaseStatus> HeartbeatAsync(long taskId, long leaseToken, TimeSpan leaseDuration, string? progress, CancellationToken cancellationToken);

    /// <summary>Marks a leased task completed.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="leaseToken">The lease token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the lease was lost (nothing changed).</returns>
    ValueTask<bool> CompleteAsync(long taskId, long leaseToken, CancellationToken cancellationToken);

    /// <summary>Ends a failed attempt: back to the queue at <see cref="TaskFailure.RetryAt"/>, or dead-lettered.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="leaseToken">The lease token.</param>
    /// <param name="failure">The error and the retry time.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the lease was lost (nothing changed).</returns>
    ValueTask<bool> FailAsync(long taskId, long leaseToken, TaskFailure failure, CancellationToken cancellationToken);

    /// <summary>Hands a lease back unfinished (graceful shutdown): queued again, due now, the attempt given back.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="leaseToken">The lease token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the lease was lost (nothing changed).</returns>
    ValueTask<bool> ReleaseAsync(long taskId, long leaseToken, CancellationToken cancellationToken);

    /// <summary>Marks a leased task canceled after its handler stopped because cancellation was requested.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="leaseToken">The lease token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the lease was lost (nothing changed).</returns>
    ValueTask<bool> AcknowledgeCancelAsync(long taskId, long leaseToken, CancellationToken cancellationToken);

    /// <summary>Cancels a queued task, or flags a leased one so its next heartbeat reports <see cref="LeaseStatus.CancelRequested"/>.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened.</returns>
    ValueTask<CancelResult> CancelAsync(long taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Returns every leased task whose lease expired to the queue (due now), or dead-letters it when the lost lease
    /// was its last attempt. A task with a pending cancel request is canceled instead.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many tasks were requeued and dead-lettered.</returns>
    ValueTask<SweepResult> RecoverExpiredLeasesAsync(CancellationToken cancellationToken);

    /// <summary>Reads one task.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task, or <see langword="null"/>.</returns>
    ValueTask<TaskSnapshot?> GetAsync(long taskId, CancellationToken cancellationToken);

    /// <summary>Lists tasks in id order.</summary>
    /// <param name="query">The filter and page (already validated).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    ValueTask<IReadOnlyList<TaskSnapshot>> ListAsync(TaskQuery query, CancellationToken cancellationToken);

    /// <summary>Moves one dead-lettered task back to the queue, due now, with attempts reset to 0 (its last error is kept).</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the task was dead-lettered and is queued again.</returns>
    ValueTask<bool> RedriveAsync(long taskId, CancellationToken cancellationToken);

    /// <summary>Moves every dead-lettered task of one queue back to it, as <see cref="RedriveAsync"/> does.</summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many tasks were redriven.</returns>
    ValueTask<int> RedriveQueueAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Deletes completed and canceled tasks finished before one time and dead letters finished before another.</summary>
    /// <param name="finishedBefore">Completed and canceled tasks that finished before this are deleted.</param>
    /// <param name="deadLetteredBefore">Dead letters that finished before this are deleted.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many tasks were deleted.</returns>
    ValueTask<int> PruneAsync(DateTimeOffset finishedBefore, DateTimeOffset deadLetteredBefore, CancellationToken cancellationToken);

    /// <summary>Counts tasks per queue and state.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One entry per queue that has tasks, ordered by queue name.</returns>
    ValueTask<IReadOnlyList<QueueStatistics>> GetStatisticsAsync(CancellationToken cancellationToken);
}
