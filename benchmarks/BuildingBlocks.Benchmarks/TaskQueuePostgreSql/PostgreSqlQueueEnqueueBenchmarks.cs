using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BuildingBlocks.Benchmarks.TaskQueue;
using BuildingBlocks.TaskQueue;
using BuildingBlocks.TaskQueue.PostgreSql;
using Hangfire;
using Hangfire.PostgreSql;
using Npgsql;

namespace BuildingBlocks.Benchmarks.PostgreSql;

/// <summary>
/// Enqueue speed on PostgreSQL with no worker running, figures per task. "Single": <see cref="Singles"/> separate
/// <see cref="ITaskQueue.EnqueueAsync(NewTask, CancellationToken)"/> calls per invocation (each its own transaction:
/// INSERT, NOTIFY, COMMIT). "Batch": <see cref="BatchTasks"/> tasks per invocation, as
/// <see cref="ITaskQueue.EnqueueBatchAsync(IReadOnlyList{NewTask}, CancellationToken)"/> calls of 1,000 or of 10,000
/// tasks (one transaction each; 64 tasks or more without unique keys are written with binary COPY). The baseline is
/// Hangfire's <c>BackgroundJobClient.Create</c> of a no-op static method on Hangfire.PostgreSql (package defaults),
/// called <see cref="Singles"/> or <see cref="HangfireLoop"/> times (Hangfire has no batch API, and each <c>Create</c>
/// commits several transactions, so its loop is kept short). Beside them, the floor on the same server:
/// <see cref="RawPostgreSqlQueue"/>, the same table written by hand with the fewest round trips. Payloads are 64 bytes.
/// Each row writes to a schema of its own, created in the global setup; every iteration is one invocation and starts
/// from empty tables (TRUNCATE outside the measurement).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PostgreSqlQueueEnqueueBenchmarks
{
    private const int Singles = 100;
    private const int HangfireLoop = 500;
    private const int BatchTasks = 20_000;
    private const int SmallBatch = 1_000;
    private const int LargeBatch = 10_000;

    private string? _connectionString;
    private string? _schema;
    private NewTask _single = null!;
    private NewTask[] _smallBatch = [];
    private NewTask[] _largeBatch = [];
    private PostgreSqlTaskStore? _store;
    private TaskQueueClient _client = null!;
    private NpgsqlDataSource? _rawDataSource;
    private RawPostgreSqlQueue _raw = null!;
    private BackgroundJobClient _hangfire = null!;

    [GlobalSetup(Targets = [nameof(Hangfire_Create), nameof(Hangfire_Create_500)])]
    public void SetupHangfire()
    {
        _connectionString = BenchmarkPostgreSql.Acquire();
        _schema = BenchmarkPostgreSql.NewSchemaName("hangfire_enqueue");
        PostgreSqlStorage storage = PostgreSqlBenchmarkFixture.CreateHangfireStorage(_connectionString, _schema);
        _hangfire = new BackgroundJobClient(storage);
    }

    [GlobalSetup(Targets = [nameof(PostgreSql_EnqueueAsync), nameof(PostgreSql_EnqueueBatchAsync_1000), nameof(PostgreSql_EnqueueBatchAsync_10000)])]
    public void SetupPostgreSql()
    {
        _connectionString = BenchmarkPostgreSql.Acquire();
        _schema = BenchmarkPostgreSql.NewSchemaName("bench_enqueue");
        _single = TaskQueueFixture.NewTasks(1)[0];
        _smallBatch = TaskQueueFixture.NewTasks(SmallBatch);
        _largeBatch = TaskQueueFixture.NewTasks(LargeBatch);
        _store = PostgreSqlBenchmarkFixture.CreateStore(_connectionString, _schema);
        _client = new TaskQueueClient(_store);
    }

    [GlobalSetup(Targets = [nameof(Raw_InsertNotifyCommit), nameof(Raw_Copy_10000)])]
    public void SetupRaw()
    {
        SetupPostgreSql();
        _rawDataSource = NpgsqlDataSource.Create(_connectionString!);
        _raw = new RawPostgreSqlQueue(_rawDataSource, _schema!, _store!.Channel);
    }

    [IterationSetup(Targets = [nameof(Hangfire_Create), nameof(Hangfire_Create_500)])]
    public void EmptyHangfireTables() =>
        BenchmarkPostgreSql.Execute(_connectionString!, $"TRUNCATE \"{_schema}\".job, \"{_schema}\".jobqueue, \"{_schema}\".state, \"{_schema}\".jobparameter CASCADE;");

    [IterationSetup(Targets = [nameof(PostgreSql_EnqueueAsync), nameof(PostgreSql_EnqueueBatchAsync_1000), nameof(PostgreSql_EnqueueBatchAsync_10000), nameof(Raw_InsertNotifyCommit), nameof(Raw_Copy_10000)])]
    public void EmptyTasksTable() => BenchmarkPostgreSql.Execute(_connectionString!, $"TRUNCATE \"{_schema}\".tasks;");

    [GlobalCleanup]
    public void Cleanup()
    {
        TaskQueueFixture.DisposeStore(_store);
        _rawDataSource?.Dispose();
        PostgreSqlBenchmarkFixture.DropSchemas(_connectionString, _schema);
        if (_connectionString is not null)
        {
            BenchmarkPostgreSql.Release();
        }
    }

    [BenchmarkCategory("Single"), Benchmark(Baseline = true, OperationsPerInvoke = Singles, Description = "Hangfire.PostgreSql: BackgroundJobClient.Create")]
    public string Hangfire_Create() => CreateJobs(Singles);

    [BenchmarkCategory("Single"), Benchmark(OperationsPerInvoke = Singles, Description = "PostgreSQL: EnqueueAsync")]
    public async Task<long> PostgreSql_EnqueueAsync()
    {
        long id = 0;
        for (int i = 0; i < Singles; i++)
        {
            id = (await _client.EnqueueAsync(_single)).TaskId;
        }

        return id;
    }

    [BenchmarkCategory("Single"), Benchmark(OperationsPerInvoke = Singles, Description = "Npgsql by hand: INSERT + pg_notify, COMMIT")]
    public async Task<long> Raw_InsertNotifyCommit()
    {
        long id = 0;
        for (int i = 0; i < Singles; i++)
        {
            id = await _raw.InsertAsync(_single);
        }

        return id;
    }

    [BenchmarkCategory("Batch"), Benchmark(Baseline = true, OperationsPerInvoke = HangfireLoop, Description = "Hangfire.PostgreSql: 500 × BackgroundJobClient.Create")]
    public string Hangfire_Create_500() => CreateJobs(HangfireLoop);

    [BenchmarkCategory("Batch"), Benchmark(OperationsPerInvoke = BatchTasks, Description = "PostgreSQL: 20 × EnqueueBatchAsync(1,000), COPY")]
    public Task<long> PostgreSql_EnqueueBatchAsync_1000() => EnqueueBatchesAsync(_smallBatch);

    [BenchmarkCategory("Batch"), Benchmark(OperationsPerInvoke = BatchTasks, Description = "PostgreSQL: 2 × EnqueueBatchAsync(10,000), COPY")]
    public Task<long> PostgreSql_EnqueueBatchAsync_10000() => EnqueueBatchesAsync(_largeBatch);

    [BenchmarkCategory("Batch"), Benchmark(OperationsPerInvoke = BatchTasks, Description = "Npgsql by hand: 2 × binary COPY of 10,000 + pg_notify")]
    public async Task Raw_Copy_10000()
    {
        for (int i = 0; i < BatchTasks; i += _largeBatch.Length)
        {
            await _raw.CopyAsync(_largeBatch);
        }
    }

    private async Task<long> EnqueueBatchesAsync(NewTask[] batch)
    {
        long id = 0;
        for (int i = 0; i < BatchTasks; i += batch.Length)
        {
            id = (await _client.EnqueueBatchAsync(batch))[^1].TaskId;
        }

        return id;
    }

    private string CreateJobs(int count)
    {
        string id = "";
        for (int i = 0; i < count; i++)
        {
            id = HangfireFixture.Enqueue(_hangfire, HangfireFixture.NoOpJob);
        }

        return id;
    }
}
