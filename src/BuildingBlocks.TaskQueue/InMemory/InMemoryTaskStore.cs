namespace BuildingBlocks.TaskQueue;

/// <summary>
/// A task store in process memory: for tests, for work that may be lost with the process, and as the reference
/// behaviour the durable stores are checked against. Thread-safe; one lock guards all state.
/// </summary>
public sealed class InMemoryTaskStore : ITaskStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, StoredTask> _tasks = [];
    private readonly Dictionary<string, long> _uniqueKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueIndex> _queues = new(StringComparer.Ordinal);
    private readonly HashSet<StoredTask> _leased = [];
    private readonly TimeProvider _timeProvider;
    private long _lastId;

    /// <summary>Creates an empty store on the system clock.</summary>
    public InMemoryTaskStore()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock for run-at times and leases.</param>
    public InMemoryTaskStore(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>How many tasks the store holds, in any state.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _tasks.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new EnqueueResult[tasks.Count];
        lock (_gate)
        {
            // All or nothing: check every insert before changing anything.
            for (int i = 0; i < tasks.Count; i++)
            {
                ArgumentNullException.ThrowIfNull(tasks[i], nameof(tasks));
                if (tasks[i].Queue is null)
                {
                    throw new ArgumentException($"Task {i} of the batch has no queue; nothing was stored.", nameof(tasks));
                }
            }

            Dictionary<string, long>? batchKeys = null;
            for (int i = 0; i < tasks.Count; i++)
            {
                TaskInsert insert = tasks[i];
                if (insert.UniqueKey is { } key)
                {
                    if (_uniqueKeys.TryGetValue(key, out long existing) || (batchKeys?.TryGetValue(key, out existing) ?? false))
                    {
                        results[i] = new EnqueueResult(existing, Created: false);
                        continue;
                    }

                    (batchKeys ??= new(StringComparer.Ordinal))[key] = _lastId + 1;
                }

                var task = new StoredTask(++_lastId, insert);
                _tasks.Add(task.Id, task);
                if (insert.UniqueKey is { } uniqueKey)
                {
                    _uniqueKeys[uniqueKey] = task.Id;
                }

                GetQueue(task.Queue).Enqueue(task);
                results[i] = new EnqueueResult(task.Id, Created: true);
            }
        }

        return new ValueTask<IReadOnlyList<EnqueueResult>>(results);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeasedTask>> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request.Queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxCount, 1);
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!_queues.TryGetValue(request.Queue, out QueueIndex? queue))
            {
                return new ValueTask<IReadOnlyList<LeasedTask>>([]);
            }

            List<LeasedTask>? claimed = null;
            while (claimed is null || claimed.Count < request.MaxCount)
            {
                StoredTask? task = queue.TakeDue(now.UtcTicks);
                if (task is null)
                {
                    break;
                }

                task.State = TaskState.Leased;
                task.Attempts++;
                task.LeaseToken++;
                task.LeaseExpiresAt = now + request.LeaseDuration;
                task.LeasedBy = request.WorkerId;
                _leased.Add(task);
                (claimed ??= []).Add(new LeasedTask
                {
                    Id = task.Id,
                    Queue = task.Queue,
                    Payload = task.Payload,
                    Priority = task.Priority,
                    Attempt = task.Attempts,
                    MaxAttempts = task.MaxAttempts,
                    LeaseToken = task.LeaseToken,
                    LeaseExpiresAt = task.LeaseExpiresAt.Value,
                    EnqueuedAt = task.EnqueuedAt,
                    RunAt = task.RunAt,
                    ClaimedAt = now,
                    Progress = task.Progress,
                    LastError = task.LastError,
                    UniqueKey = task.UniqueKey,
                    TraceParent = task.TraceParent,
                });
            }

            return new ValueTask<IReadOnlyList<LeasedTask>>(claimed is null ? [] : claimed);
        }
    }

    /// <inheritdoc />
    public ValueTask<LeaseStatus> HeartbeatAsync(long taskId, long leaseToken, TimeSpan leaseDuration, string? progress, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!TryGetLeased(taskId, leaseToken, out StoredTask? task))
            {
                return new ValueTask<LeaseStatus>(LeaseStatus.Lost);
            }

            task.LeaseExpiresAt = now + leaseDuration;
            if (progress is not null)
            {
                task.Progress = progress;
            }

            return new ValueTask<LeaseStatus>(task.CancelRequested ? LeaseStatus.CancelRequested : LeaseStatus.Active);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> CompleteAsync(long taskId, long leaseToken, CancellationToken cancellationToken) =>
        Finish(taskId, leaseToken, TaskState.Completed, error: null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> AcknowledgeCancelAsync(long taskId, long leaseToken, CancellationToken cancellationToken) =>
        Finish(taskId, leaseToken, TaskState.Canceled, error: null, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> FailAsync(long taskId, long leaseToken, TaskFailure failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure.Error);
        if (failure.RetryAt is null)
        {
            return Finish(taskId, leaseToken, TaskState.DeadLettered, failure.Error, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!TryGetLeased(taskId, leaseToken, out StoredTask? task))
            {
                return new ValueTask<bool>(false);
            }

            task.LastError = failure.Error;
            if (task.CancelRequested)
            {
                // Someone asked to cancel it: the failed attempt ends it rather than scheduling a retry.
                FinishLeased(task, TaskState.Canceled, _timeProvider.GetUtcNow());
                return new ValueTask<bool>(true);
            }

            task.RunAt = failure.RetryAt.Value;
            Requeue(task);
            return new ValueTask<bool>(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> ReleaseAsync(long taskId, long leaseToken, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!TryGetLeased(taskId, leaseToken, out StoredTask? task))
            {
                return new ValueTask<bool>(false);
            }

            task.Attempts = Math.Max(0, task.Attempts - 1);
            if (task.CancelRequested)
            {
                FinishLeased(task, TaskState.Canceled, now);
                return new ValueTask<bool>(true);
            }

            task.RunAt = now;
            Requeue(task);
            return new ValueTask<bool>(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<CancelResult> CancelAsync(long taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!_tasks.TryGetValue(taskId, out StoredTask? task))
            {
                return new ValueTask<CancelResult>(CancelResult.NotFound);
            }

            switch (task.State)
            {
                case TaskState.Queued:
                    task.State = TaskState.Canceled;
                    task.FinishedAt = now;
                    return new ValueTask<CancelResult>(CancelResult.Canceled);
                case TaskState.Leased:
                    task.CancelRequested = true;
                    return new ValueTask<CancelResult>(CancelResult.CancelRequested);
                default:
                    return new ValueTask<CancelResult>(CancelResult.AlreadyFinished);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<SweepResult> RecoverExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        int requeued = 0, deadLettered = 0;
        lock (_gate)
        {
            List<StoredTask>? expired = null;
            foreach (StoredTask task in _leased)
            {
                if (task.LeaseExpiresAt <= now)
                {
                    (expired ??= []).Add(task);
                }
            }

            foreach (StoredTask task in expired ?? [])
            {
                _leased.Remove(task);
                task.LeaseExpiresAt = null;
                if (task.CancelRequested)
                {
                    task.State = TaskState.Canceled;
                    task.FinishedAt = now;
                }
                else if (task.Attempts >= task.MaxAttempts)
                {
                    task.State = TaskState.DeadLettered;
                    task.LastError = LeaseExpiredMessage.For(task.LeasedBy);
                    task.FinishedAt = now;
                    deadLettered++;
                }
                else
                {
                    task.LastError = LeaseExpiredMessage.For(task.LeasedBy);
                    task.RunAt = now;
                    task.State = TaskState.Queued;
                    GetQueue(task.Queue).Enqueue(task);
                    requeued++;
                }
            }
        }

        return new ValueTask<SweepResult>(new SweepResult(requeued, deadLettered));
    }

    /// <inheritdoc />
    public ValueTask<TaskSnapshot?> GetAsync(long taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return new ValueTask<TaskSnapshot?>(_tasks.TryGetValue(taskId, out StoredTask? task) ? task.ToSnapshot(includePayload: true) : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<TaskSnapshot>> ListAsync(TaskQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<TaskSnapshot> page = [.. _tasks.Values
                .Where(t => t.Id > query.AfterId && (query.Queue is null || t.Queue == query.Queue) && (query.State is null || t.State == query.State))
                .OrderBy(t => t.Id)
                .Take(query.Limit)
                .Select(t => t.ToSnapshot(query.IncludePayload))];
            return new ValueTask<IReadOnlyList<TaskSnapshot>>(page);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RedriveAsync(long taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!_tasks.TryGetValue(taskId, out StoredTask? task) || task.State != TaskState.DeadLettered)
            {
                return new ValueTask<bool>(false);
            }

            Redrive(task, now);
            return new ValueTask<bool>(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> RedriveQueueAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            int count = 0;
            foreach (StoredTask task in _tasks.Values.Where(t => t.State == TaskState.DeadLettered && t.Queue == queue).OrderBy(t => t.Id).ToList())
            {
                Redrive(task, now);
                count++;
            }

            return new ValueTask<int>(count);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> PruneAsync(DateTimeOffset finishedBefore, DateTimeOffset deadLetteredBefore, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            List<StoredTask> doomed = [.. _tasks.Values.Where(t =>
                (t.State is TaskState.Completed or TaskState.Canceled && t.FinishedAt < finishedBefore) ||
                (t.State == TaskState.DeadLettered && t.FinishedAt < deadLetteredBefore))];
            foreach (StoredTask task in doomed)
            {
                _tasks.Remove(task.Id);
                if (task.UniqueKey is { } key)
                {
                    _uniqueKeys.Remove(key);
                }
            }

            return new ValueTask<int>(doomed.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<QueueStatistics>> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            IReadOnlyList<QueueStatistics> statistics = [.. _tasks.Values
                .GroupBy(t => t.Queue, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new QueueStatistics
                {
                    Queue = g.Key,
                    Ready = g.LongCount(t => t.State == TaskState.Queued && t.RunAt <= now),
                    Scheduled = g.LongCount(t => t.State == TaskState.Queued && t.RunAt > now),
                    Leased = g.LongCount(t => t.State == TaskState.Leased),
                    ExpiredLeases = g.LongCount(t => t.State == TaskState.Leased && t.LeaseExpiresAt <= now),
                    Completed = g.LongCount(t => t.State == TaskState.Completed),
                    DeadLettered = g.LongCount(t => t.State == TaskState.DeadLettered),
                    Canceled = g.LongCount(t => t.State == TaskState.Canceled),
                    OldestReadyRunAt = g.Where(t => t.State == TaskState.Queued && t.RunAt <= now).Select(t => (DateTimeOffset?)t.RunAt).Min(),
                })];
            return new ValueTask<IReadOnlyList<QueueStatistics>>(statistics);
        }
    }

    private ValueTask<bool> Finish(long taskId, long leaseToken, TaskState state, string? error, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!TryGetLeased(taskId, leaseToken, out StoredTask? task))
            {
                return new ValueTask<bool>(false);
            }

            FinishLeased(task, state, now);
            if (error is not null)
            {
                task.LastError = error;
            }

            return new ValueTask<bool>(true);
        }
    }

    private void FinishLeased(StoredTask task, TaskState state, DateTimeOffset now)
    {
        _leased.Remove(task);
        task.State = state;
        task.LeaseExpiresAt = null;
        task.FinishedAt = now;
    }

    private bool TryGetLeased(long taskId, long leaseToken, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StoredTask? task) =>
        _tasks.TryGetValue(taskId, out task) && task.State == TaskState.Leased && task.LeaseToken == leaseToken;

    private void Requeue(StoredTask task)
    {
        _leased.Remove(task);
        task.State = TaskState.Queued;
        task.LeaseExpiresAt = null;
        GetQueue(task.Queue).Enqueue(task);
    }

    private void Redrive(StoredTask task, DateTimeOffset now)
    {
        task.Attempts = 0;
        task.RunAt = now;
        task.FinishedAt = null;
        task.CancelRequested = false;
        task.State = TaskState.Queued;
        GetQueue(task.Queue).Enqueue(task);
    }

    private QueueIndex GetQueue(string name)
    {
        if (!_queues.TryGetValue(name, out QueueIndex? queue))
        {
            queue = new QueueIndex();
            _queues.Add(name, queue);
        }

        return queue;
    }
}
