using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BuildingBlocks.TaskQueue;
using Hangfire;
using Hangfire.InMemory;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// Enqueue speed with no worker running, figures per task. "Single": 100 separate
/// <see cref="ITaskQueue.EnqueueAsync(NewTask, CancellationToken)"/> calls per invocation (on SQLite each is its own
/// transaction); "Batch": one <see cref="ITaskQueue.EnqueueBatchAsync"/> of 1,000 tasks (one transaction). The
/// baseline is Hangfire's <c>BackgroundJobClient.Create</c> of a no-op static method on Hangfire.InMemory, called
/// 100 or 1,000 times (Hangfire has no batch API). Payloads are 64 bytes. Every iteration starts from an empty store
/// (a new SQLite file, a new in-memory store, a new Hangfire storage), so no run grows the store without bound.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10, invocationCount: 32)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class TaskQueueEnqueueBenchmarks
{
    private const int Singles = 100;
    private const int BatchSize = 1_000;

    private NewTask _single = null!;
    private NewTask[] _batch = [];
    private string? _path;
    private ITaskStore? _store;
    private TaskQueueClient _client = null!;
    private InMemoryStorage? _hangfireStorage;
    private BackgroundJobClient _hangfire = null!;

    [GlobalSetup]
    public void Setup()
    {
        _single = TaskQueueFixture.NewTasks(1)[0];
        _batch = TaskQueueFixture.NewTasks(BatchSize);
    }

    [IterationSetup(Targets = [nameof(Hangfire_Create), nameof(Hangfire_Create_1000)])]
    public void NewHangfireStorage()
    {
        _hangfireStorage?.Dispose();
        _hangfireStorage = HangfireFixture.CreateStorage();
        _hangfire = new BackgroundJobClient(_hangfireStorage);
    }

    [IterationSetup(Targets = [nameof(Sqlite_EnqueueAsync), nameof(Sqlite_EnqueueBatchAsync_1000)])]
    public void NewSqliteStore() => NewStore(BenchmarkStore.Sqlite);

    [IterationSetup(Targets = [nameof(InMemory_EnqueueAsync), nameof(InMemory_EnqueueBatchAsync_1000)])]
    public void NewInMemoryStore() => NewStore(BenchmarkStore.InMemory);

    [GlobalCleanup]
    public void Cleanup()
    {
        _hangfireStorage?.Dispose();
        TaskQueueFixture.DisposeStore(_store);
        TaskQueueFixture.DeleteDatabase(_path);
    }

    [BenchmarkCategory("Single"), Benchmark(Baseline = true, OperationsPerInvoke = Singles, Description = "Hangfire: BackgroundJobClient.Create")]
    public string Hangfire_Create()
    {
        string id = "";
        for (int i = 0; i < Singles; i++)
        {
            id = HangfireFixture.Enqueue(_hangfire, HangfireFixture.NoOpJob);
        }

        return id;
    }

    [BenchmarkCategory("Single"), Benchmark(OperationsPerInvoke = Singles, Description = "SQLite: EnqueueAsync")]
    public Task<long> Sqlite_EnqueueAsync() => EnqueueSinglesAsync();

    [BenchmarkCategory("Single"), Benchmark(OperationsPerInvoke = Singles, Description = "In-memory: EnqueueAsync")]
    public Task<long> InMemory_EnqueueAsync() => EnqueueSinglesAsync();

    [BenchmarkCategory("Batch"), Benchmark(Baseline = true, OperationsPerInvoke = BatchSize, Description = "Hangfire: 1,000 × BackgroundJobClient.Create")]
    public string Hangfire_Create_1000()
    {
        string id = "";
        for (int i = 0; i < BatchSize; i++)
        {
            id = HangfireFixture.Enqueue(_hangfire, HangfireFixture.NoOpJob);
        }

        return id;
    }

    [BenchmarkCategory("Batch"), Benchmark(OperationsPerInvoke = BatchSize, Description = "SQLite: EnqueueBatchAsync(1,000)")]
    public Task<long> Sqlite_EnqueueBatchAsync_1000() => EnqueueBatchAsync();

    [BenchmarkCategory("Batch"), Benchmark(OperationsPerInvoke = BatchSize, Description = "In-memory: EnqueueBatchAsync(1,000)")]
    public Task<long> InMemory_EnqueueBatchAsync_1000() => EnqueueBatchAsync();

    private async Task<long> EnqueueSinglesAsync()
    {
        long id = 0;
        for (int i = 0; i < Singles; i++)
        {
            id = (await _client.EnqueueAsync(_single)).TaskId;
        }

        return id;
    }

    private async Task<long> EnqueueBatchAsync()
    {
        IReadOnlyList<EnqueueResult> results = await _client.EnqueueBatchAsync(_batch);
        return results[^1].TaskId;
    }

    private void NewStore(BenchmarkStore kind)
    {
        TaskQueueFixture.DisposeStore(_store);
        TaskQueueFixture.DeleteDatabase(_path);
        _path = kind == BenchmarkStore.Sqlite ? TaskQueueFixture.NewDatabasePath() : null;
        _store = TaskQueueFixture.CreateStore(kind, _path);
        _client = new TaskQueueClient(_store);

        // Opens the file and creates the schema outside the measurement.
        _ = _store.GetStatisticsAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }
}
