using BuildingBlocks.Sagas.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Support;

/// <summary>What every SQLite saga store test class needs: its own temp directory of database files and a fake clock.</summary>
public abstract class SqliteSagaStoreTests : IAsyncLifetime
{
    /// <summary>The test's database files, deleted after it.</summary>
    protected SqliteSagaTestFiles Files { get; } = new();

    /// <summary>The clock the stores run on, starting at <see cref="SagaStoreHarness.Start"/>.</summary>
    protected FakeTimeProvider Time { get; } = new(SagaStoreHarness.Start);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A harness over a store on <paramref name="name"/> with the test's clock.</summary>
    protected SagaStoreHarness Harness(string name = "sagas.db", Action<SqliteSagaStoreOptions>? configure = null) =>
        new(Files.CreateStore(Time, name, configure), Time);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await Files.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
