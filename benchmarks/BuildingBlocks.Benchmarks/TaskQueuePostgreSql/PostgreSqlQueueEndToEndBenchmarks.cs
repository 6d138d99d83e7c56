using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using BuildingBlocks.Benchmarks.TaskQueue;
using BuildingBlocks.TaskQueue;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using IHost = Microsoft.Extensions.Hosting.IHost;

namespace BuildingBlocks.Benchmarks.PostgreSql;

/// <summary>
/// End-to-end throughput on PostgreSQL, from one process: each invocation enqueues <see cref="Tasks"/> tasks
/// (<see cref="ITaskQueue.EnqueueBatchAsync(IReadOnlyList{NewTask}, CancellationToken)"/> of <see cref="BatchSize"/>,
/// binary COPY) into a host whose worker is already running (<c>UsePostgreSql</c>), and returns when the no-op handler
/// has run that many times; every task is claimed (<c>FOR UPDATE SKIP LOCKED</c>), run and completed in the database.
/// Figures are per task. Worker concurrency is Hangfire's default worker count (five per core, at most 20) on both
/// sides. The baseline is a Hangfire <see cref="BackgroundJobServer"/> on Hangfire.PostgreSql (package defaults) with
/// the same worker count, fed <see cref="HangfireJobCount"/> no-op jobs through <see cref="BackgroundJobClient"/> (Hangfire
/// has no batch API; each <c>Create</c> is several committed transactions, so it gets fewer jobs to keep the run short:
/// the figure is per job all the same). Each benchmark works in a fresh schema of the same database, created
/// in its global setup and dropped at cleanup.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 4)]
public class PostgreSqlQueueEndToEndBenchmarks
{
    private const int Tasks = 10_000;
    private const int BatchSize = 1_000;
    private const int HangfireJobCount = 500;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private string? _connectionString;
    private string? _schema;
    private NewTask[] _batch = [];
    private IHost? _host;
    private ITaskQueue _queue = null!;
    private PostgreSqlStorage? _hangfireStorage;
    private BackgroundJobServer? _hangfireServer;
    private BackgroundJobClient _hangfire = null!;
    private int _handled;
    private int _target;
    private TaskCompletionSource _done = new();

    [GlobalSetup(Target = nameof(Hangfire_BackgroundJobServer))]
    public void SetupHangfire()
    {
        _connectionString = BenchmarkPostgreSql.Acquire();
        _schema = BenchmarkPostgreSql.NewSchemaName("hangfire_e2e");
        _hangfireStorage = PostgreSqlBenchmarkFixture.CreateHangfireStorage(_connectionString, _schema);
        _hangfire = new BackgroundJobClient(_hangfireStorage);
        _hangfireServer = HangfireFixture.StartServer(_hangfireStorage);
    }

    [GlobalSetup(Target = nameof(PostgreSql_Worker))]
    public void SetupPostgreSql()
    {
        _connectionString = BenchmarkPostgreSql.Acquire();
        _schema = BenchmarkPostgreSql.NewSchemaName("bench_e2e");
        _batch = TaskQueueFixture.NewTasks(BatchSize);
        _host = PostgreSqlBenchmarkFixture.StartHost(_connectionString, _schema, (_, _) =>
        {
            if (Interlocked.Increment(ref _handled) == Volatile.Read(ref _target))
            {
                Volatile.Read(ref _done).TrySetResult();
            }

            return ValueTask.CompletedTask;
        });
        _queue = _host.Services.GetRequiredService<ITaskQueue>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        HangfireFixture.StopServer(_hangfireServer);
        TaskQueueFixture.StopHost(_host);
        PostgreSqlBenchmarkFixture.DropSchemas(_connectionString, _schema);
        if (_connectionString is not null)
        {
            BenchmarkPostgreSql.Release();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = HangfireJobCount, Description = "Hangfire.PostgreSql: BackgroundJobServer")]
    public async Task Hangfire_BackgroundJobServer()
    {
        Task done = HangfireJobs.ExpectRuns(HangfireJobCount);
        for (int i = 0; i < HangfireJobCount; i++)
        {
            HangfireFixture.Enqueue(_hangfire, HangfireFixture.CountJob);
        }

        await done.WaitAsync(Timeout);
    }

    [Benchmark(OperationsPerInvoke = Tasks, Description = "PostgreSQL: worker host")]
    public async Task PostgreSql_Worker()
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
}
