using BuildingBlocks.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Support;

/// <summary>Creates stores on the tests' database and disposes them with the test class.</summary>
public abstract class StoreFactory(PostgreSqlFixture fixture) : IAsyncLifetime
{
    /// <summary>The definition name the tests use.</summary>
    protected const string Name = "order-fulfilment";

    private readonly List<IAsyncDisposable> _disposables = [];

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The fixed start of every test clock (whole seconds, UTC).</summary>
    protected static DateTimeOffset Start { get; } = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    protected static string[] Names { get; } = [Name];

    protected string ConnectionString { get; private set; } = "";

    protected PostgreSqlFixture Fixture => fixture;

    public async ValueTask InitializeAsync() => ConnectionString = await PostgreSqlDatabase.ConnectionStringAsync(fixture);

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>A store with its own data source (a "node") on <paramref name="schema"/>.</summary>
    protected PostgreSqlSagaStore CreateStore(string schema, TimeProvider? time = null, bool migrate = true)
    {
        var store = new PostgreSqlSagaStore(
            new PostgreSqlSagaStoreOptions { ConnectionString = ConnectionString, Schema = schema, MigrateSchema = migrate },
            time ?? new FakeTimeProvider(Start));
        Track(store);
        return store;
    }

    protected T Track<T>(T disposable)
        where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    protected static SagaRecord Saga(string id, DateTimeOffset at, SagaStatus status = SagaStatus.Running, string data = """{"orderId":42}""") => new()
    {
        Id = id,
        Name = Name,
        Version = 1,
        Status = status,
        Data = data,
        Progress = "",
        CreatedAt = at,
        UpdatedAt = at,
    };

    protected static SagaEvent Line(long sequence, DateTimeOffset at, long leaseToken = 0, SagaEventKind kind = SagaEventKind.StepCompleted) => new()
    {
        Sequence = sequence,
        Kind = kind,
        Step = kind == SagaEventKind.Started ? null : "reserve-stock",
        Attempt = kind == SagaEventKind.Started ? 0 : 1,
        At = at,
        Duration = kind == SagaEventKind.Started ? null : TimeSpan.FromMilliseconds(3),
        LeaseToken = leaseToken,
    };

    protected static SagaCheckpoint Checkpoint(SagaRecord leased, string data, DateTimeOffset at, params SagaEvent[] events) => new()
    {
        SagaId = leased.Id,
        LeaseOwner = leased.LeaseOwner!,
        LeaseToken = leased.LeaseToken,
        Status = SagaStatus.Running,
        Data = data,
        Progress = "reserve-stock:done",
        UpdatedAt = at,
        Events = events,
    };

    /// <summary>Creates <paramref name="count"/> unleased running sagas named <c>{prefix}0000</c>… with one start line each.</summary>
    protected static async Task<string[]> CreateManyAsync(ISagaStore store, int count, DateTimeOffset at, string prefix = "saga-")
    {
        string[] ids = [.. Enumerable.Range(0, count).Select(i => $"{prefix}{i:D4}")];
        foreach (string[] chunk in ids.Chunk(50))
        {
            bool[] created = await Task.WhenAll(chunk.Select(id => store.CreateAsync(Saga(id, at), [Line(1, at, kind: SagaEventKind.Started)], Ct).AsTask()));
            Assert.All(created, Assert.True);
        }

        return ids;
    }
}
