using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Sagas.Sqlite.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Storage;

/// <summary>The SQLite store (default options: WAL, synchronous FULL) against the shared suite; every test gets a fresh database file.</summary>
public sealed class SqliteSagaStoreConformanceTests : SagaStoreConformanceTests, IAsyncLifetime
{
    private readonly SqliteSagaTestFiles _files = new();

    protected override ValueTask<ISagaStore> CreateStoreAsync(FakeTimeProvider time) =>
        new(_files.CreateStore(time, $"sagas-{Guid.NewGuid():N}.db"));

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _files.DisposeAsync();
}
