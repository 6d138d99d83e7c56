using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.TaskQueue.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.PostgreSql.Tests.Storage;

/// <summary>The PostgreSQL store against the shared suite; every test gets a schema of its own on a real server.</summary>
public sealed class PostgreSqlTaskStoreConformanceTests(PostgreSqlFixture fixture) : TaskStoreConformanceTests, IAsyncLifetime
{
    private readonly List<PostgreSqlTaskStore> _stores = [];

    protected override async ValueTask<ITaskStore> CreateStoreAsync(FakeTimeProvider time)
    {
        string connectionString = await PostgreSqlDatabase.ConnectionStringAsync(fixture);
        var store = new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = connectionString, Schema = PostgreSqlDatabase.NewSchema() }, time);
        _stores.Add(store);
        return store;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (PostgreSqlTaskStore store in _stores)
        {
            await store.DisposeAsync();
        }
    }
}
