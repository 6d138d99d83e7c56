using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Sagas.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Storage;

/// <summary>The PostgreSQL store against the shared suite; every test gets a schema of its own on a real server.</summary>
public sealed class PostgreSqlSagaStoreConformanceTests(PostgreSqlFixture fixture) : SagaStoreConformanceTests, IAsyncLifetime
{
    private readonly List<PostgreSqlSagaStore> _stores = [];

    protected override async ValueTask<ISagaStore> CreateStoreAsync(FakeTimeProvider time)
    {
        string connectionString = await PostgreSqlDatabase.ConnectionStringAsync(fixture);
        var store = new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { ConnectionString = connectionString, Schema = PostgreSqlDatabase.NewSchema() }, time);
        _stores.Add(store);
        return store;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (PostgreSqlSagaStore store in _stores)
        {
            await store.DisposeAsync();
        }
    }
}
