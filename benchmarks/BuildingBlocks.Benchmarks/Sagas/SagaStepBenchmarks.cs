using BenchmarkDotNet.Attributes;
using BuildingBlocks.Sagas;
using BuildingBlocks.Sagas.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Benchmarks.Sagas;

/// <summary>
/// The cost of one saga step with its durable checkpoint on SQLite (WAL, synchronous=FULL), against a hand-rolled
/// checkpoint transaction: the store's checkpoint alone (fenced update + history line, through its group-commit writer),
/// and a whole saga of ten no-op steps run by the coordinator (per step: action, serialization, checkpoint, scheduling),
/// on SQLite and on the in-memory store (the coordinator's own overhead).
/// </summary>
[MemoryDiagnoser]
public class SagaStepBenchmarks
{
    private const string Owner = "bench";
    private string _directory = string.Empty;
    private HandRolledSqliteCheckpoint _handRolled = null!;
    private SqliteSagaStore _store = null!;
    private IHost _sqliteHost = null!;
    private IHost _memoryHost = null!;
    private ISagaClient _sqliteClient = null!;
    private ISagaClient _memoryClient = null!;
    private long _sequence = 1;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "bb-saga-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        _handRolled = new HandRolledSqliteCheckpoint(Path.Combine(_directory, "hand-rolled.db"));
        _store = new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = Path.Combine(_directory, "store.db") });
        DateTimeOffset now = DateTimeOffset.UtcNow;
        _store.CreateAsync(
            new SagaRecord
            {
                Id = "s1",
                Name = "bench",
                Version = 1,
                Status = SagaStatus.Running,
                Data = "{}",
                Progress = "{}",
                CreatedAt = now,
                UpdatedAt = now,
                LeaseOwner = Owner,
                LeaseToken = 1,
                LeaseExpiresAt = now.AddDays(1),
            },
            [],
            CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _sqliteHost = StartHost(builder => builder.UseSqlite(Path.Combine(_directory, "coordinator.db")));
        _memoryHost = StartHost(_ => { });
        _sqliteClient = _sqliteHost.Services.GetRequiredService<ISagaClient>();
        _memoryClient = _memoryHost.Services.GetRequiredService<ISagaClient>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sqliteHost.StopAsync().GetAwaiter().GetResult();
        _memoryHost.StopAsync().GetAwaiter().GetResult();
        _sqliteHost.Dispose();
        _memoryHost.Dispose();
        _store.Dispose();
        _handRolled.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "Hand-rolled SQLite checkpoint (UPDATE + INSERT, FULL)")]
    public void HandRolledCheckpoint() => _handRolled.Checkpoint("{\"done\":1}", "{\"seq\":1}");

    [Benchmark(Description = "SqliteSagaStore.CheckpointAsync (fenced, FULL)")]
    public async Task StoreCheckpoint()
    {
        long sequence = ++_sequence;
        bool written = await _store.CheckpointAsync(
            new SagaCheckpoint
            {
                SagaId = "s1",
                LeaseOwner = Owner,
                LeaseToken = 1,
                Status = SagaStatus.Running,
                Data = "{\"done\":1}",
                Progress = "{\"seq\":1}",
                UpdatedAt = DateTimeOffset.UtcNow,
                Events = [new SagaEvent { Sequence = sequence, Kind = SagaEventKind.StepCompleted, Step = "step", Attempt = 1, At = DateTimeOffset.UtcNow }],
            },
            CancellationToken.None);
        if (!written)
        {
            throw new InvalidOperationException("The benchmark's lease was refused.");
        }
    }

    [Benchmark(OperationsPerInvoke = BenchChainSaga.StepCount, Description = "Saga step via coordinator, SQLite (per step)")]
    public Task SagaStepSqlite() => RunSagaAsync(_sqliteClient);

    [Benchmark(OperationsPerInvoke = BenchChainSaga.StepCount, Description = "Saga step via coordinator, in-memory (per step)")]
    public Task SagaStepInMemory() => RunSagaAsync(_memoryClient);

    private static async Task RunSagaAsync(ISagaClient client)
    {
        string id = await client.StartAsync(new BenchChainData());
        SagaSnapshot end = await client.WaitForEndAsync(id);
        if (end.Status != SagaStatus.Completed)
        {
            throw new InvalidOperationException($"The benchmark saga ended {end.Status}: {end.Error}");
        }
    }

    private static IHost StartHost(Action<ISagasBuilder> store)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        ISagasBuilder sagas = builder.Services.AddSagas().AddSaga<BenchChainSaga, BenchChainData>();
        store(sagas);
        IHost host = builder.Build();
        host.StartAsync().GetAwaiter().GetResult();
        return host;
    }
}
