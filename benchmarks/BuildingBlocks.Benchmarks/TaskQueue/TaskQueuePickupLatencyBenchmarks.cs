using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Perfolizer.Mathematics.OutlierDetection;
using BuildingBlocks.TaskQueue;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using IHost = Microsoft.Extensions.Hosting.IHost;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// Pickup latency in process: one task is enqueued into an idle, started worker host and the operation ends when the
/// handler has started (its first statement takes a timestamp and completes a TaskCompletionSource). Every iteration is
/// exactly one pickup (Monitoring strategy, one invocation per iteration, outliers kept), so BenchmarkDotNet's own
/// measurements are the per-pickup distribution: the <c>P50 op</c>/<c>P99 op</c> columns. Before each iteration,
/// outside the measurement, the previous task is waited for until it is completed in the store and the host is left
/// idle for 2 ms, so every pickup starts from a parked worker. Inside the benchmark process a
/// <see cref="LatencyRecorder"/> also times each pickup from just before the enqueue to the handler's own timestamp
/// (<c>P50 handler</c>/<c>P99 handler</c>, the warm-up pickups excluded). The baseline is Hangfire's
/// <see cref="BackgroundJobServer"/> on Hangfire.InMemory picking up one job enqueued with <see cref="BackgroundJobClient"/>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: WarmupCount, iterationCount: IterationCount)]
[Outliers(OutlierMode.DontRemove)]
[Config(typeof(PickupLatencyConfig))]
public class TaskQueuePickupLatencyBenchmarks
{
    private const int WarmupCount = 20;
    private const int IterationCount = 400;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(2);

    private NewTask _task = null!;
    private string? _path;
    private IHost? _host;
    private ITaskQueue _queue = null!;
    private long _lastTaskId;
    private InMemoryStorage? _hangfireStorage;
    private BackgroundJobServer? _hangfireServer;
    private BackgroundJobClient _hangfire = null!;
    private string? _lastJobId;
    private TaskCompletionSource<long> _started = new();
    private LatencyRecorder _recorder = null!;

    [GlobalSetup(Target = nameof(Hangfire_BackgroundJobServer))]
    public void SetupHangfire()
    {
        _recorder = new LatencyRecorder($"{nameof(TaskQueuePickupLatencyBenchmarks)}.{nameof(Hangfire_BackgroundJobServer)}", WarmupCount, IterationCount);
        _hangfireStorage = HangfireFixture.CreateStorage();
        _hangfire = new BackgroundJobClient(_hangfireStorage);
        _hangfireServer = HangfireFixture.StartServer(_hangfireStorage);
    }

    [GlobalSetup(Target = nameof(Sqlite_Worker))]
    public void SetupSqlite() => StartHost(BenchmarkStore.Sqlite, nameof(Sqlite_Worker));

    [GlobalSetup(Target = nameof(InMemory_Worker))]
    public void SetupInMemory() => StartHost(BenchmarkStore.InMemory, nameof(InMemory_Worker));

    [IterationSetup(Target = nameof(Hangfire_BackgroundJobServer))]
    public void WaitForHangfireIdle()
    {
        if (_lastJobId is not null)
        {
            HangfireFixture.WaitUntilSucceeded(_hangfireStorage!, _lastJobId);
        }

        Thread.Sleep(Idle);
    }

    [IterationSetup(Targets = [nameof(Sqlite_Worker), nameof(InMemory_Worker)])]
    public void WaitForWorkerIdle()
    {
        if (_lastTaskId != 0)
        {
            var spin = new SpinWait();
            while (_queue.GetAsync(_lastTaskId).AsTask().GetAwaiter().GetResult()?.State != TaskState.Completed)
            {
                spin.SpinOnce(sleep1Threshold: 20);
            }
        }

        Thread.Sleep(Idle);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _recorder.Write();
        HangfireFixture.StopServer(_hangfireServer);
        _hangfireStorage?.Dispose();
        TaskQueueFixture.StopHost(_host);
        TaskQueueFixture.DeleteDatabase(_path);
    }

    [Benchmark(Baseline = true, Description = "Hangfire: BackgroundJobServer")]
    public async Task<long> Hangfire_BackgroundJobServer()
    {
        Task<long> started = HangfireJobs.ExpectStart();
        long start = Stopwatch.GetTimestamp();
        _lastJobId = HangfireFixture.Enqueue(_hangfire, HangfireFixture.SignalStartJob);
        long handlerStart = await started.WaitAsync(Timeout);
        _recorder.Add(start, handlerStart);
        return handlerStart;
    }

    [Benchmark(Description = "SQLite: worker host")]
    public Task<long> Sqlite_Worker() => EnqueueAndAwaitStartAsync();

    [Benchmark(Description = "In-memory: worker host")]
    public Task<long> InMemory_Worker() => EnqueueAndAwaitStartAsync();

    private async Task<long> EnqueueAndAwaitStartAsync()
    {
        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _started, started);
        long start = Stopwatch.GetTimestamp();
        _lastTaskId = (await _queue.EnqueueAsync(_task)).TaskId;
        long handlerStart = await started.Task.WaitAsync(Timeout);
        _recorder.Add(start, handlerStart);
        return handlerStart;
    }

    private void StartHost(BenchmarkStore store, string method)
    {
        _recorder = new LatencyRecorder($"{nameof(TaskQueuePickupLatencyBenchmarks)}.{method}", WarmupCount, IterationCount);
        _task = TaskQueueFixture.NewTasks(1)[0];
        _path = store == BenchmarkStore.Sqlite ? TaskQueueFixture.NewDatabasePath() : null;
        _host = TaskQueueFixture.StartHost(store, _path, (_, _) =>
        {
            long now = Stopwatch.GetTimestamp();
            Volatile.Read(ref _started).TrySetResult(now);
            return ValueTask.CompletedTask;
        });
        _queue = _host.Services.GetRequiredService<ITaskQueue>();
    }
}
