using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using BuildingBlocks.TaskQueue;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using IHost = Microsoft.Extensions.Hosting.IHost;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// End-to-end throughput: each invocation enqueues 10,000 tasks (10 × <see cref="ITaskQueue.EnqueueBatchAsync"/> of
/// 1,000) into a host whose worker is already running, and returns when the no-op handler has run 10,000 times (the
/// handler completes a TaskCompletionSource at the count); every task is claimed, run and completed in the store.
/// Figures are per task. Worker concurrency is Hangfire's default worker count (five per core, at most 20) on both
/// sides. The baseline is a Hangfire <see cref="BackgroundJobServer"/> on Hangfire.InMemory with the same worker count,
/// fed 10,000 no-op jobs through <see cref="BackgroundJobClient"/>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10)]
public class TaskQueueEndToEndBenchmarks
{
    private const int Tasks = 10_000;
    private const int BatchSize = 1_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private NewTask[] _batch = [];
    private string? _path;
    private IHost? _host;
    private ITaskQueue _queue = null!;
    private InMemoryStorage? _hangfireStorage;
    private BackgroundJobServer? _hangfireServer;
    private BackgroundJobClient _hangfire = null!;
    private int _handled;
    private int _target;
    private TaskCompletionSource _done = new();

    [GlobalSetup(Target = nameof(Hangfire_BackgroundJobServer))]
    public void SetupHangfire()
    {
        _hangfireStorage = HangfireFixture.CreateStorage();
        _hangfire = new BackgroundJobClient(_hangfireStorage);
        _hangfireServer = HangfireFixture.StartServer(_hangfireStorage);
    }

    [GlobalSetup(Target = nameof(Sqlite_Worker))]
    public void SetupSqlite() => StartHost(BenchmarkStore.Sqlite);

    [GlobalSetup(Target = nameof(InMemory_Worker))]
    public void SetupInMemory() => StartHost(BenchmarkStore.InMemory);

    [GlobalCleanup]
    public void Cleanup()
    {
        HangfireFixture.StopServer(_hangfireServer);
        _hangfireStorage?.Dispose();
        TaskQueueFixture.StopHost(_host);
        TaskQueueFixture.DeleteDatabase(_path);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Tasks, Description = "Hangfire: BackgroundJobServer")]
    public async Task Hangfire_BackgroundJobServer()
    {
        Task done = HangfireJobs.ExpectRuns(Tasks);
        for (int i = 0; i < Tasks; i++)
        {
            HangfireFixture.Enqueue(_hangfire, HangfireFixture.CountJob);
        }

        await done.WaitAsync(Timeout);
    }

    [Benchmark(OperationsPerInvoke = Tasks, Description = "SQLite: worker host")]
    public Task Sqlite_Worker() => EnqueueAndRunAsync();

    [Benchmark(OperationsPerInvoke = Tasks, Description = "In-memory: worker host")]
    public Task InMemory_Worker() => EnqueueAndRunAsync();

    private async Task EnqueueAndRunAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _done, done);
        Volatile.Write(ref _handled, 0);
        Volatile.Write(ref _target, Tasks);
        for (int i = 0; i < Tasks; i += BatchSize)
        {
            await _queue.EnqueueBatchAsync(_batch);
        }

        await done.Task.WaitAsync(Timeout);
    }

    private void StartHost(BenchmarkStore store)
    {
        _batch = TaskQueueFixture.NewTasks(BatchSize);
        _path = store == BenchmarkStore.Sqlite ? TaskQueueFixture.NewDatabasePath() : null;
        _host = TaskQueueFixture.StartHost(store, _path, (_, _) =>
        {
            if (Interlocked.Increment(ref _handled) == Volatile.Read(ref _target))
            {
                Volatile.Read(ref _done).TrySetResult();
            }

            return ValueTask.CompletedTask;
        });
        _queue = _host.Services.GetRequiredService<ITaskQueue>();
    }
}
