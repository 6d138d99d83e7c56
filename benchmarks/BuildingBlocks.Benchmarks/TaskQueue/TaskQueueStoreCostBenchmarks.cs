using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BuildingBlocks.TaskQueue;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// What the stores cost per task, figures per task or per heartbeat:
/// <list type="bullet">
/// <item>"Memory": 10,000 tasks with 64-byte payloads enqueued into a fresh <see cref="InMemoryTaskStore"/> per invocation
/// (store call alone, and through <see cref="TaskQueueClient.EnqueueBatchAsync(IReadOnlyList{NewTask}, CancellationToken)"/>); Allocated is per task. The
/// <c>Retained/task</c> column is measured separately, once per benchmark process: bytes still held per task with
/// 100,000 tasks in a fresh store (<see cref="RetainedMemory"/>). Baseline: an unbounded
/// <see cref="Channel{T}"/> of (id, payload copy) records, the in-process queue people write instead.</item>
/// <item>"Heartbeat": <see cref="ITaskStore.HeartbeatAsync"/> on a leased task, 100 per invocation (1,000 in memory).
/// Baseline: the prepared SQLite UPDATE of a hand-written queue (<see cref="RawSqliteQueue"/>).</item>
/// <item>"Claim + complete": one <see cref="ITaskStore.ClaimAsync"/> of 16 tasks then 16
/// <see cref="ITaskStore.CompleteAsync"/> calls, per task. Baseline: the hand-written queue's one-statement claim of 16
/// and its completing UPDATE.</item>
/// </list>
/// Stores are created once per benchmark process; before each iteration, outside the measurement, the claim benchmarks
/// top the queue up so there is always work to claim.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10, invocationCount: InvocationsPerIteration)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[Config(typeof(RetainedMemoryConfig))]
public class TaskQueueStoreCostBenchmarks
{
    private const int InvocationsPerIteration = 32;
    private const int MemoryTasks = 10_000;
    private const int RetainedTasks = 100_000;
    private const int Heartbeats = 100;
    private const int InMemoryHeartbeats = 1_000;
    private const int ClaimBatch = 16;
    private const int TopUpTo = InvocationsPerIteration * ClaimBatch * 2;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(30);

    private TaskInsert[] _inserts = [];
    private NewTask[] _tasks = [];
    private string? _path;
    private ITaskStore? _store;
    private RawSqliteQueue? _raw;
    private long _leasedId;
    private long _leasedToken;
    private int _queued;
    private TaskInsert[] _topUp = [];

    [GlobalSetup(Target = nameof(Memory_Channel))]
    public void SetupChannel() => SetupMemory(nameof(Memory_Channel), static inserts => FillChannel(inserts));

    [GlobalSetup(Target = nameof(Memory_InMemoryTaskStore))]
    public void SetupInMemoryTaskStore() => SetupMemory(nameof(Memory_InMemoryTaskStore), static inserts =>
    {
        var store = new InMemoryTaskStore();
        _ = store.EnqueueAsync(inserts, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return store;
    });

    [GlobalSetup(Target = nameof(Memory_TaskQueueClient))]
    public void SetupTaskQueueClient()
    {
        NewTask[] tasks = TaskQueueFixture.NewTasks(RetainedTasks);
        SetupMemory(nameof(Memory_TaskQueueClient), _ => FillClient(tasks));
    }

    [GlobalSetup(Targets = [nameof(Heartbeat_RawSqlite), nameof(ClaimComplete_RawSqlite)])]
    public void SetupRawSqlite()
    {
        _path = TaskQueueFixture.NewDatabasePath();
        _raw = new RawSqliteQueue(_path);
        _raw.Enqueue(1, TaskQueueFixture.NewPayload(0));
        _raw.Claim(1, Lease);
        (_leasedId, _leasedToken) = _raw.Claimed[0];
    }

    [GlobalSetup(Targets = [nameof(Heartbeat_Sqlite), nameof(ClaimComplete_Sqlite)])]
    public void SetupSqlite() => SetupStore(BenchmarkStore.Sqlite);

    [GlobalSetup(Targets = [nameof(Heartbeat_InMemory), nameof(ClaimComplete_InMemory)])]
    public void SetupInMemory() => SetupStore(BenchmarkStore.InMemory);

    [IterationSetup(Targets = [nameof(ClaimComplete_RawSqlite), nameof(ClaimComplete_Sqlite), nameof(ClaimComplete_InMemory)])]
    public void TopUp()
    {
        int missing = TopUpTo - _queued;
        if (missing <= 0)
        {
            return;
        }

        if (_raw is not null)
        {
            _raw.Enqueue(missing, TaskQueueFixture.NewPayload(0));
        }
        else
        {
            _ = _store!.EnqueueAsync(_topUp[..missing], CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }

        _queued = TopUpTo;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw?.Dispose();
        TaskQueueFixture.DisposeStore(_store);
        TaskQueueFixture.DeleteDatabase(_path);
    }

    [BenchmarkCategory("Memory"), Benchmark(Baseline = true, OperationsPerInvoke = MemoryTasks, Description = "Channel<T>: TryWrite (id, payload copy)")]
    public object Memory_Channel() => FillChannel(_inserts);

    [BenchmarkCategory("Memory"), Benchmark(OperationsPerInvoke = MemoryTasks, Description = "InMemoryTaskStore.EnqueueAsync(10,000)")]
    public async Task<object> Memory_InMemoryTaskStore()
    {
        var store = new InMemoryTaskStore();
        _ = await store.EnqueueAsync(_inserts, CancellationToken.None);
        return store;
    }

    [BenchmarkCategory("Memory"), Benchmark(OperationsPerInvoke = MemoryTasks, Description = "TaskQueueClient.EnqueueBatchAsync(10,000), in memory")]
    public async Task<object> Memory_TaskQueueClient()
    {
        var client = new TaskQueueClient(new InMemoryTaskStore());
        _ = await client.EnqueueBatchAsync(_tasks);
        return client;
    }

    [BenchmarkCategory("Heartbeat"), Benchmark(Baseline = true, OperationsPerInvoke = Heartbeats, Description = "Hand-written SQLite queue: UPDATE lease")]
    public bool Heartbeat_RawSqlite()
    {
        bool held = true;
        for (int i = 0; i < Heartbeats; i++)
        {
            held &= _raw!.Heartbeat(_leasedId, _leasedToken, Lease);
        }

        return held;
    }

    [BenchmarkCategory("Heartbeat"), Benchmark(OperationsPerInvoke = Heartbeats, Description = "SQLite: HeartbeatAsync")]
    public async Task<LeaseStatus> Heartbeat_Sqlite()
    {
        LeaseStatus status = LeaseStatus.Active;
        for (int i = 0; i < Heartbeats; i++)
        {
            status = await _store!.HeartbeatAsync(_leasedId, _leasedToken, Lease, progress: null, CancellationToken.None);
        }

        return status;
    }

    [BenchmarkCategory("Heartbeat"), Benchmark(OperationsPerInvoke = InMemoryHeartbeats, Description = "In-memory: HeartbeatAsync")]
    public async Task<LeaseStatus> Heartbeat_InMemory()
    {
        LeaseStatus status = LeaseStatus.Active;
        for (int i = 0; i < InMemoryHeartbeats; i++)
        {
            status = await _store!.HeartbeatAsync(_leasedId, _leasedToken, Lease, progress: null, CancellationToken.None);
        }

        return status;
    }

    [BenchmarkCategory("Claim + complete"), Benchmark(Baseline = true, OperationsPerInvoke = ClaimBatch, Description = "Hand-written SQLite queue: claim 16 + 16 UPDATE")]
    public int ClaimComplete_RawSqlite()
    {
        int completed = 0;
        _queued -= _raw!.Claim(ClaimBatch, Lease);
        foreach ((long id, long token) in _raw.Claimed)
        {
            completed += _raw.Complete(id, token) ? 1 : 0;
        }

        return completed;
    }

    [BenchmarkCategory("Claim + complete"), Benchmark(OperationsPerInvoke = ClaimBatch, Description = "SQLite: ClaimAsync(16) + 16 × CompleteAsync")]
    public Task<int> ClaimComplete_Sqlite() => ClaimCompleteAsync();

    [BenchmarkCategory("Claim + complete"), Benchmark(OperationsPerInvoke = ClaimBatch, Description = "In-memory: ClaimAsync(16) + 16 × CompleteAsync")]
    public Task<int> ClaimComplete_InMemory() => ClaimCompleteAsync();

    private async Task<int> ClaimCompleteAsync()
    {
        int completed = 0;
        IReadOnlyList<LeasedTask> claimed = await _store!.ClaimAsync(new ClaimRequest(TaskQueueFixture.Queue, "bench", ClaimBatch, Lease), CancellationToken.None);
        _queued -= claimed.Count;
        foreach (LeasedTask task in claimed)
        {
            completed += await _store.CompleteAsync(task.Id, task.LeaseToken, CancellationToken.None) ? 1 : 0;
        }

        return completed;
    }

    private static TaskQueueClient FillClient(NewTask[] tasks)
    {
        var client = new TaskQueueClient(new InMemoryTaskStore());
        _ = client.EnqueueBatchAsync(tasks).AsTask().GetAwaiter().GetResult();
        return client;
    }

    private static Channel<QueuedItem> FillChannel(TaskInsert[] inserts)
    {
        Channel<QueuedItem> channel = Channel.CreateUnbounded<QueuedItem>();
        for (int i = 0; i < inserts.Length; i++)
        {
            channel.Writer.TryWrite(new QueuedItem(i + 1, inserts[i].Payload.ToArray()));
        }

        return channel;
    }

    /// <summary>Builds this invocation's inputs, then measures what <paramref name="fill"/> retains per task with 100,000 tasks.</summary>
    private void SetupMemory(string method, Func<TaskInsert[], object> fill)
    {
        _inserts = TaskQueueFixture.NewInserts(MemoryTasks);
        _tasks = TaskQueueFixture.NewTasks(MemoryTasks);
        TaskInsert[] inserts = TaskQueueFixture.NewInserts(RetainedTasks);
        RetainedMemory.Record(ResultFiles.KeyFor(typeof(TaskQueueStoreCostBenchmarks), method), RetainedTasks, () => fill(inserts));
    }

    private void SetupStore(BenchmarkStore kind)
    {
        _path = kind == BenchmarkStore.Sqlite ? TaskQueueFixture.NewDatabasePath() : null;
        _store = TaskQueueFixture.CreateStore(kind, _path);
        _topUp = TaskQueueFixture.NewInserts(TopUpTo);

        // The leased task every heartbeat renews; it stays leased, so the claims never see it.
        _ = _store.EnqueueAsync(_topUp[..1], CancellationToken.None).AsTask().GetAwaiter().GetResult();
        LeasedTask leased = _store.ClaimAsync(new ClaimRequest(TaskQueueFixture.Queue, "bench", 1, Lease), CancellationToken.None).AsTask().GetAwaiter().GetResult()[0];
        (_leasedId, _leasedToken) = (leased.Id, leased.LeaseToken);
    }

    private sealed record QueuedItem(long Id, byte[] Payload);
}
