using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BuildingBlocks.TaskQueue;

/// <summary>
/// The default <see cref="ITaskQueue"/>: validates tasks, applies defaults and the payload limit, stores them and
/// wakes this process's idle workers. Works without DI: <c>new TaskQueueClient(new InMemoryTaskStore())</c>.
/// </summary>
public sealed class TaskQueueClient : ITaskQueue
{
    /// <summary>The longest queue name accepted.</summary>
    public const int MaxQueueNameLength = 200;

    /// <summary>The longest unique key accepted.</summary>
    public const int MaxUniqueKeyLength = 400;

    private readonly ITaskStore _store;
    private readonly TaskQueueOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly TaskNotifier _notifier;
    private readonly RetryScheduler _retries;

    /// <summary>Creates a client over a store with default options.</summary>
    /// <param name="store">The store.</param>
    public TaskQueueClient(ITaskStore store)
        : this(store, new TaskQueueOptions(), TimeProvider.System, notifier: null, meterFactory: null)
    {
    }

    /// <summary>Creates a client.</summary>
    /// <param name="store">The store.</param>
    /// <param name="options">The options (validated here).</param>
    /// <param name="timeProvider">The clock; the store must use the same one.</param>
    /// <param name="notifier">The wake-up signal shared with this process's workers, or <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter, or <see langword="null"/> for no metrics.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public TaskQueueClient(ITaskStore store, TaskQueueOptions options, TimeProvider timeProvider, TaskNotifier? notifier, IMeterFactory? meterFactory)
        : this(store, options, timeProvider, notifier, new TaskQueueTelemetry(meterFactory))
    {
    }

    internal TaskQueueClient(ITaskStore store, TaskQueueOptions options, TimeProvider timeProvider, TaskNotifier? notifier, TaskQueueTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var validation = new TaskQueueOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _notifier = notifier ?? new TaskNotifier();
        Telemetry = telemetry;
        _retries = new RetryScheduler(options, timeProvider);
    }

    /// <summary>The store this client writes to.</summary>
    public ITaskStore Store => _store;

    internal TaskQueueTelemetry Telemetry { get; }

    internal TaskNotifier Notifier => _notifier;

    internal TaskQueueOptions Options => _options;

    internal RetryScheduler Retries => _retries;

    /// <inheritdoc />
    public async ValueTask<EnqueueResult> EnqueueAsync(NewTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        IReadOnlyList<EnqueueResult> results = await EnqueueCoreAsync([task], store: null, cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <inheritdoc />
    public ValueTask<EnqueueResult> EnqueueAsync<TPayload>(string queue, TPayload payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default) =>
        EnqueueAsync(CreateTask(queue, payload, options), cancellationToken);

    /// <summary>Serializes a typed payload as <see cref="EnqueueAsync{TPayload}"/> does and returns the task, without enqueuing it.</summary>
    /// <typeparam name="TPayload">The payload type.</typeparam>
    /// <param name="queue">The queue name.</param>
    /// <param name="payload">The payload, serialized with <see cref="TaskQueueOptions.SerializerOptions"/>.</param>
    /// <param name="options">Priority, run-at, attempts and unique key.</param>
    /// <returns>The task.</returns>
    /// <exception cref="ArgumentException">The payload cannot be serialized.</exception>
    /// <exception cref="PayloadTooLargeException">The serialized payload is larger than <see cref="TaskQueueOptions.MaxPayloadBytes"/>.</exception>
    public NewTask CreateTask<TPayload>(string queue, TPayload payload, EnqueueOptions? options = null)
    {
        byte[] bytes = SerializePayload(queue, payload);
        return new NewTask(queue, bytes)
        {
            Priority = options?.Priority ?? 0,
            RunAt = options?.RunAt,
            MaxAttempts = options?.MaxAttempts,
            UniqueKey = options?.UniqueKey,
        };
    }

    /// <summary>
    /// Validates tasks exactly as <see cref="EnqueueBatchAsync(IReadOnlyList{NewTask}, CancellationToken)"/> does, then
    /// hands them to <paramref name="store"/> instead of the queue's store: how a store package enqueues inside the
    /// caller's own database transaction. Telemetry counts the tasks as enqueued when <paramref name="store"/> returns,
    /// even if the caller later rolls back.
    /// </summary>
    /// <param name="tasks">The tasks.</param>
    /// <param name="store">Stores the validated tasks and returns one result per task, in order.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per task, in order.</returns>
    public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(
        IReadOnlyList<NewTask> tasks,
        Func<IReadOnlyList<TaskInsert>, CancellationToken, ValueTask<IReadOnlyList<EnqueueResult>>> store,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(store);
        return tasks.Count == 0 ? new ValueTask<IReadOnlyList<EnqueueResult>>([]) : EnqueueCoreAsync(tasks, store, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<NewTask> tasks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        return tasks.Count == 0 ? new ValueTask<IReadOnlyList<EnqueueResult>>([]) : EnqueueCoreAsync(tasks, store: null, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<CancelResult> CancelAsync(long taskId, CancellationToken cancellationToken = default) =>
        _store.CancelAsync(taskId, cancellationToken);

    /// <inheritdoc />
    public ValueTask<TaskSnapshot?> GetAsync(long taskId, CancellationToken cancellationToken = default) =>
        _store.GetAsync(taskId, cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<TaskSnapshot>> ListAsync(TaskQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return _store.ListAsync(query, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> RedriveAsync(long taskId, CancellationToken cancellationToken = default)
    {
        TaskSnapshot? task = await _store.GetAsync(taskId, cancellationToken).ConfigureAwait(false);
        bool redriven = await _store.RedriveAsync(taskId, cancellationToken).ConfigureAwait(false);
        if (redriven && task is not null)
        {
            _notifier.Notify(task.Queue);
        }

        return redriven;
    }

    /// <inheritdoc />
    public async ValueTask<int> RedriveAllAsync(string queue, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue, nameof(queue));
        int count = await _store.RedriveQueueAsync(queue, cancellationToken).ConfigureAwait(false);
        if (count > 0)
        {
            _notifier.Notify(queue);
        }

        return count;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<QueueStatistics>> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        _store.GetStatisticsAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<TaskLease>> ClaimAsync(string queue, int maxCount, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue, nameof(queue));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, 1000);
        IReadOnlyList<LeasedTask> claimed = await _store.ClaimAsync(new ClaimRequest(queue, _options.WorkerId, maxCount, _options.LeaseDuration), cancellationToken).ConfigureAwait(false);
        Telemetry.Claimed(queue, claimed.Count);
        var leases = new TaskLease[claimed.Count];
        for (int i = 0; i < leases.Length; i++)
        {
            leases[i] = new TaskLease(claimed[i], _store, _options, _retries);
        }

        return leases;
    }

    internal static void ValidateQueueName(string queue, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(queue, parameterName);
        if (queue.Length is 0 or > MaxQueueNameLength || string.IsNullOrWhiteSpace(queue))
        {
            throw new ArgumentException($"A queue name must be 1 to {MaxQueueNameLength} characters and not blank; it was '{queue}'.", parameterName);
        }
    }

    internal byte[] SerializePayload<TPayload>(string queue, TPayload payload)
    {
        byte[] bytes;
        try
        {
            var typeInfo = (JsonTypeInfo<TPayload>)_options.SerializerOptions.GetTypeInfo(typeof(TPayload));
            bytes = JsonSerializer.SerializeToUtf8Bytes(payload, typeInfo);
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"The payload for queue '{queue}' could not be serialized as {typeof(TPayload).FullName}: {e.Message}", nameof(payload), e);
        }

        return bytes.Length > _options.MaxPayloadBytes ? throw new PayloadTooLargeException(queue, bytes.Length, _options.MaxPayloadBytes) : bytes;
    }

    private async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(
        IReadOnlyList<NewTask> tasks,
        Func<IReadOnlyList<TaskInsert>, CancellationToken, ValueTask<IReadOnlyList<EnqueueResult>>>? store,
        CancellationToken cancellationToken)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        using Activity? activity = TaskQueueDiagnostics.ActivitySource.HasListeners()
            ? TaskQueueDiagnostics.ActivitySource.StartActivity(TaskQueueDiagnostics.EnqueueActivity, ActivityKind.Producer)
            : null;
        string? traceParent = Activity.Current?.Id;
        activity?.SetTag(TaskQueueDiagnostics.QueueTag, tasks[0]?.Queue);

        var inserts = new TaskInsert[tasks.Count];
        for (int i = 0; i < inserts.Length; i++)
        {
            inserts[i] = Validate(tasks[i], i, now, traceParent);
        }

        IReadOnlyList<EnqueueResult> results = store is null
            ? await _store.EnqueueAsync(inserts, cancellationToken).ConfigureAwait(false)
            : await store(inserts, cancellationToken).ConfigureAwait(false);
        if (results.Count != inserts.Length)
        {
            throw new InvalidOperationException($"The store returned {results.Count} results for {inserts.Length} tasks.");
        }

        string? lastQueue = null;
        long created = 0;
        for (int i = 0; i < inserts.Length; i++)
        {
            string queue = inserts[i].Queue;
            if (lastQueue is not null && !string.Equals(lastQueue, queue, StringComparison.Ordinal))
            {
                Telemetry.Enqueued(lastQueue, created);
                _notifier.Notify(lastQueue);
                created = 0;
            }

            lastQueue = queue;
            created += results[i].Created ? 1 : 0;
        }

        Telemetry.Enqueued(lastQueue!, created);
        _notifier.Notify(lastQueue!);
        return results;
    }

    private TaskInsert Validate(NewTask task, int index, DateTimeOffset now, string? traceParent)
    {
        if (task is null)
        {
            throw new ArgumentNullException(nameof(task), $"Task {index} of the batch is null.");
        }

        ValidateQueueName(task.Queue, nameof(task));
        if (task.Payload.Length > _options.MaxPayloadBytes)
        {
            throw new PayloadTooLargeException(task.Queue, task.Payload.Length, _options.MaxPayloadBytes);
        }

        int maxAttempts = task.MaxAttempts ?? _options.DefaultMaxAttempts;
        if (maxAttempts is < 1 or > 1000)
        {
            throw new ArgumentException($"NewTask.MaxAttempts must be between 1 and 1000; it was {maxAttempts} (queue '{task.Queue}').", nameof(task));
        }

        if (task.UniqueKey is { } key && (key.Length is 0 or > MaxUniqueKeyLength))
        {
            throw new ArgumentException($"NewTask.UniqueKey must be 1 to {MaxUniqueKeyLength} characters; it was {key.Length} (queue '{task.Queue}').", nameof(task));
        }

        return new TaskInsert
        {
            Queue = task.Queue,
            Payload = task.Payload,
            Priority = task.Priority,
            EnqueuedAt = now,
            RunAt = task.RunAt is { } runAt && runAt > now ? runAt : now,
            MaxAttempts = maxAttempts,
            UniqueKey = task.UniqueKey,
            TraceParent = traceParent,
        };
    }
}
