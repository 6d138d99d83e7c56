namespace BuildingBlocks.TaskQueue;

/// <summary>
/// A task claimed by hand through <see cref="ITaskQueue.ClaimAsync"/>. Heartbeat before the lease expires, then
/// complete, fail or release it. Every call presents the lease token and throws <see cref="LeaseLostException"/>
/// when the lease is no longer held.
/// </summary>
public sealed class TaskLease
{
    private readonly ITaskStore _store;
    private readonly TaskQueueOptions _options;
    private readonly RetryScheduler _retries;

    internal TaskLease(LeasedTask task, ITaskStore store, TaskQueueOptions options, RetryScheduler retries)
    {
        Task = task;
        _store = store;
        _options = options;
        _retries = retries;
    }

    /// <summary>The claimed task.</summary>
    public LeasedTask Task { get; }

    /// <summary>Extends the lease by <see cref="TaskQueueOptions.LeaseDuration"/> and stores progress when given.</summary>
    /// <param name="progress">Progress details for a later attempt, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseStatus.CancelRequested"/> when someone asked to cancel the task.</returns>
    /// <exception cref="LeaseLostException">The lease is no longer held.</exception>
    public async ValueTask<LeaseStatus> HeartbeatAsync(string? progress = null, CancellationToken cancellationToken = default)
    {
        LeaseStatus status = await _store.HeartbeatAsync(Task.Id, Task.LeaseToken, _options.LeaseDuration, progress, cancellationToken).ConfigureAwait(false);
        return status == LeaseStatus.Lost ? throw new LeaseLostException(Task.Id, Task.LeaseToken, "heartbeat") : status;
    }

    /// <summary>Marks the task completed.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="LeaseLostException">The lease is no longer held; the completion was refused.</exception>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (!await _store.CompleteAsync(Task.Id, Task.LeaseToken, cancellationToken).ConfigureAwait(false))
        {
            throw new LeaseLostException(Task.Id, Task.LeaseToken, "complete");
        }
    }

    /// <summary>Ends the attempt as failed: retried with backoff while attempts remain, dead-lettered after the last one or when <paramref name="permanent"/>.</summary>
    /// <param name="error">The error.</param>
    /// <param name="permanent">Dead-letter now, without retrying.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The retry time, or <see langword="null"/> when the task was dead-lettered.</returns>
    /// <exception cref="LeaseLostException">The lease is no longer held; the failure was refused.</exception>
    public async ValueTask<DateTimeOffset?> FailAsync(Exception error, bool permanent = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        TaskFailure failure = _retries.Decide(Task, error, permanent, queueOptions: null);
        if (!await _store.FailAsync(Task.Id, Task.LeaseToken, failure, cancellationToken).ConfigureAwait(false))
        {
            throw new LeaseLostException(Task.Id, Task.LeaseToken, "fail");
        }

        return failure.RetryAt;
    }

    /// <summary>Hands the task back unfinished, due now, without using an attempt.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="LeaseLostException">The lease is no longer held.</exception>
    public async ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (!await _store.ReleaseAsync(Task.Id, Task.LeaseToken, cancellationToken).ConfigureAwait(false))
        {
            throw new LeaseLostException(Task.Id, Task.LeaseToken, "release");
        }
    }
}
