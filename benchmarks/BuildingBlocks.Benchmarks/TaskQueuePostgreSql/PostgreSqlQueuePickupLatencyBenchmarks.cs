using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using BuildingBlocks.Benchmarks.TaskQueue;
using BuildingBlocks.TaskQueue;
using BuildingBlocks.TaskQueue.PostgreSql;
using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Perfolizer.Mathematics.OutlierDetection;

namespace BuildingBlocks.Benchmarks.PostgreSql;

/// <summary>
/// Pickup latency across processes: the benchmark process enqueues one task and the operation ends when the handler has
/// started in ANOTHER process (<see cref="PostgreSqlWorkerProcess"/>: a worker host with <c>UsePostgreSql</c>, woken by
/// LISTEN/NOTIFY), whose first statement prints <c>Stopwatch.GetTimestamp()</c> (system-wide monotonic on Linux). Every
/// iteration is exactly one pickup (Monitoring strategy, one invocation per iteration, outliers kept), so
/// BenchmarkDotNet's own measurements are the per-pickup distribution as the producer sees it, until it has read the
/// worker's line (<c>P50 op</c>/<c>P99 op</c>). Before each iteration, outside the measurement, the previous task is
/// waited for until it is completed in the database and the worker is left idle for <see cref="Idle"/>, so every pickup
/// starts from a parked worker. A <see cref="LatencyRecorder"/> times each pickup from just before the enqueue to the
/// handler's own timestamp (<c>P50 handler</c>/<c>P99 handler</c>, the warm-up pickups excluded). The baseline is a
/// Hangfire <see cref="BackgroundJobServer"/> on Hangfire.PostgreSql in another process too, with its
/// LISTEN/NOTIFY wake-up on (<c>EnableLongPolling</c>; off by default, when an idle server only polls its queue every
/// <c>QueuePollInterval</c>, 15 s by default), picking up one job enqueued here with <see cref="BackgroundJobClient"/>.
/// Both workers run <see cref="TaskQueueFixture.Concurrency"/> handlers.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: WarmupCount, iterationCount: IterationCount)]
[Outliers(OutlierMode.DontRemove)]
[Config(typeof(PickupLatencyConfig))]
[PickupLatencyBenchmark]
public class PostgreSqlQueuePickupLatencyBenchmarks
{
    private const int WarmupCount = 20;
    private const int IterationCount = 400;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(2);

    private string? _connectionString;
    private string? _schema;
    private PostgreSqlWorkerProcess? _worker;
    private NewTask _task = null!;
    private PostgreSqlTaskStore? _store;
    private TaskQueueClient _client = null!;
    private long _lastTaskId;
    private PostgreSqlStorage? _hangfireStorage;
    private BackgroundJobClient _hangfire = null!;
    private string? _lastJobId;
    private LatencyRecorder _recorder = null!;

    [GlobalSetup(Target = nameof(Hangfire_BackgroundJobServer))]
    public void SetupHangfire()
    {
        _recorder = new LatencyRecorder(ResultFiles.KeyFor(typeof(PostgreSqlQueuePickupLatencyBenchmarks), nameof(Hangfire_BackgroundJobServer)), WarmupCount, IterationCount);
        _connectionString = BenchmarkPostgreSql.Acquire();
        _schema = BenchmarkPostgreSql.NewSchemaName("hangfire_latency");
        _hangfireStorage = PostgreSqlBenchmarkFixture.CreateHangfireStorage(_connectionString, _schema, longPolling: true);
        _hangfire = new BackgroundJobClient(_hangfireStorage);
        Console.WriteLine($"// Hangfire.PostgreSql: EnableLongPolling on, QueuePollInterval {PostgreSqlBenchmarkFixture.HangfireDefaultQueuePollInterval} (the package default, unchanged)");
        _worker = PostgreSqlWorkerProcess.Start(WorkerKind.Hangfire, _connectionString, _schema, TaskQueueFixture.Queue, TaskQueueFixture.Concurrency);
    }

    [GlobalSetup(Target = nameof(PostgreSql_Worker))]
    public void SetupPostgreSql()
    {
        _recorder = new LatencyRecorder(ResultFiles.KeyFor(typeof(PostgreSqlQueuePickupLatencyBenchmarks), nameof(PostgreSql_Worker)), WarmupCount, IterationCount);
        _connectionString = BenchmarkPostgreSql.Acquire();
        _schema = BenchmarkPostgreSql.NewSchemaName("bench_latency");
        _task = TaskQueueFixture.NewTasks(1)[0];
        _store = PostgreSqlBenchmarkFixture.CreateStore(_connectionString, _schema);
        _client = new TaskQueueClient(_store);
        _worker = PostgreSqlWorkerProcess.Start(WorkerKind.BuildingBlocks, _connectionString, _schema, TaskQueueFixture.Queue, TaskQueueFixture.Concurrency);
    }

    [IterationSetup(Target = nameof(Hangfire_BackgroundJobServer))]
    public void WaitForHangfireIdle()
    {
        if (_lastJobId is not null)
        {
            HangfireFixture.WaitUntilSucceeded(_hangfireStorage!, _lastJobId);
        }

        Thread.Sleep(Idle);
    }

    [IterationSetup(Target = nameof(PostgreSql_Worker))]
    public void WaitForWorkerIdle()
    {
        if (_lastTaskId != 0)
        {
            var spin = new SpinWait();
            while (_client.GetAsync(_lastTaskId).AsTask().GetAwaiter().GetResult()?.State != TaskState.Completed)
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
        _worker?.Dispose();
        TaskQueueFixture.DisposeStore(_store);
        PostgreSqlBenchmarkFixture.DropSchemas(_connectionString, _schema);
        if (_connectionString is not null)
        {
            BenchmarkPostgreSql.Release();
        }
    }

    [Benchmark(Baseline = true, Description = "Hangfire.PostgreSql: BackgroundJobServer, other process")]
    public async Task<long> Hangfire_BackgroundJobServer()
    {
        Task<long> started = _worker!.ExpectStart();
        long start = Stopwatch.GetTimestamp();
        _lastJobId = HangfireFixture.Enqueue(_hangfire, PostgreSqlHangfireJobs.SignalStartJob);
        long handlerStart = await started.WaitAsync(Timeout);
        _recorder.Add(start, handlerStart);
        return handlerStart;
    }

    [Benchmark(Description = "PostgreSQL: worker host, other process")]
    public async Task<long> PostgreSql_Worker()
    {
        Task<long> started = _worker!.ExpectStart();
        long start = Stopwatch.GetTimestamp();
        _lastTaskId = (await _client.EnqueueAsync(_task)).TaskId;
        long handlerStart = await started.WaitAsync(Timeout);
        _recorder.Add(start, handlerStart);
        return handlerStart;
    }
}

/// <summary>
/// The job the Hangfire worker process runs. Only its name travels: the worker process resolves
/// <c>BuildingBlocks.Benchmarks.PostgreSql.PostgreSqlHangfireJobs</c> to its own class with the same method, which prints
/// the Stopwatch timestamp as its first statement. It never runs here.
/// </summary>
public static class PostgreSqlHangfireJobs
{
    internal static readonly Job SignalStartJob = Job.FromExpression(() => SignalStart());

    /// <summary>Runs in the worker process only.</summary>
    public static void SignalStart() => throw new InvalidOperationException("This job runs in the BuildingBlocks.Benchmarks.PostgreSqlWorker process.");
}
