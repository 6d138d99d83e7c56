using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Conformance;

/// <summary>
/// A store under test with its clock, and the few helpers the conformance tests share. Store-specific test classes
/// may use it too.
/// </summary>
public sealed class TaskStoreHarness
{
    /// <summary>The queue most tests use.</summary>
    public const string DefaultQueue = "orders";

    /// <summary>The worker most tests claim as.</summary>
    public const string DefaultWorker = "worker-a";

    /// <summary>The fixed start of every test clock (whole seconds, so every store can represent it exactly).</summary>
    public static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>The lease most tests claim with.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(30);

    public TaskStoreHarness(ITaskStore store, FakeTimeProvider time)
    {
        Store = store;
        Time = time;
    }

    public ITaskStore Store { get; }

    public FakeTimeProvider Time { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Advance(TimeSpan by) => Time.Advance(by);

    /// <summary>A task insert as the client would build it: enqueued now, due now unless <paramref name="runAt"/> says otherwise.</summary>
    public TaskInsert Insert(
        string queue = DefaultQueue,
        byte[]? payload = null,
        int priority = 0,
        DateTimeOffset? runAt = null,
        int maxAttempts = 3,
        string? uniqueKey = null,
        string? traceParent = null) => new()
        {
            Queue = queue,
            Payload = payload ?? [1, 2, 3],
            Priority = priority,
            EnqueuedAt = Now,
            RunAt = runAt ?? Now,
            MaxAttempts = maxAttempts,
            UniqueKey = uniqueKey,
            TraceParent = traceParent,
        };

    /// <summary>Enqueues one task and returns its id (asserting it was created).</summary>
    public async Task<long> EnqueueAsync(
        string queue = DefaultQueue,
        byte[]? payload = null,
        int priority = 0,
        DateTimeOffset? runAt = null,
        int maxAttempts = 3,
        string? uniqueKey = null)
    {
        IReadOnlyList<EnqueueResult> results = await Store.EnqueueAsync([Insert(queue, payload, priority, runAt, maxAttempts, uniqueKey)], Ct);
        EnqueueResult result = Assert.Single(results);
        Assert.True(result.Created);
        return result.TaskId;
    }

    public async Task<IReadOnlyList<LeasedTask>> ClaimAsync(string queue = DefaultQueue, int maxCount = 100, string worker = DefaultWorker, TimeSpan? lease = null) =>
        await Store.ClaimAsync(new ClaimRequest(queue, worker, maxCount, lease ?? DefaultLease), Ct);

    /// <summary>Claims exactly one task (asserting one was due).</summary>
    public async Task<LeasedTask> ClaimOneAsync(string queue = DefaultQueue, string worker = DefaultWorker, TimeSpan? lease = null) =>
        Assert.Single(await ClaimAsync(queue, 1, worker, lease));

    /// <summary>Enqueues one task and claims it.</summary>
    public async Task<LeasedTask> EnqueueAndClaimAsync(string queue = DefaultQueue, int maxAttempts = 3, string worker = DefaultWorker, TimeSpan? lease = null)
    {
        long id = await EnqueueAsync(queue, maxAttempts: maxAttempts);
        LeasedTask task = await ClaimOneAsync(queue, worker, lease);
        Assert.Equal(id, task.Id);
        return task;
    }

    /// <summary>Reads a task that must exist.</summary>
    public async Task<TaskSnapshot> GetAsync(long id)
    {
        TaskSnapshot? task = await Store.GetAsync(id, Ct);
        Assert.NotNull(task);
        return task;
    }

    public async Task<IReadOnlyList<TaskSnapshot>> ListAsync(string? queue = null, TaskState? state = null, long afterId = 0, int limit = 10_000, bool includePayload = true) =>
        await Store.ListAsync(new TaskQuery { Queue = queue, State = state, AfterId = afterId, Limit = limit, IncludePayload = includePayload }, Ct);

    public async Task<SweepResult> SweepAsync() => await Store.RecoverExpiredLeasesAsync(Ct);

    /// <summary>Asserts two reads of a task are the same in every field.</summary>
    public static void AssertSameSnapshot(TaskSnapshot expected, TaskSnapshot actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Queue, actual.Queue);
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.Payload.ToArray(), actual.Payload.ToArray());
        Assert.Equal(expected.Priority, actual.Priority);
        Assert.Equal(expected.Attempts, actual.Attempts);
        Assert.Equal(expected.MaxAttempts, actual.MaxAttempts);
        Assert.Equal(expected.EnqueuedAt, actual.EnqueuedAt);
        Assert.Equal(expected.RunAt, actual.RunAt);
        Assert.Equal(expected.LeaseToken, actual.LeaseToken);
        Assert.Equal(expected.LeaseExpiresAt, actual.LeaseExpiresAt);
        Assert.Equal(expected.LeasedBy, actual.LeasedBy);
        Assert.Equal(expected.Progress, actual.Progress);
        Assert.Equal(expected.LastError, actual.LastError);
        Assert.Equal(expected.FinishedAt, actual.FinishedAt);
        Assert.Equal(expected.CancelRequested, actual.CancelRequested);
        Assert.Equal(expected.UniqueKey, actual.UniqueKey);
    }
}
