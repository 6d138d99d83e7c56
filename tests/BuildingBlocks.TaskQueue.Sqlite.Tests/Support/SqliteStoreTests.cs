using BuildingBlocks.TaskQueue.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Support;

/// <summary>What every SQLite store test class needs: its own temp directory of database files and a fake clock.</summary>
public abstract class SqliteStoreTests : IAsyncLifetime
{
    /// <summary>The test's database files, deleted after it.</summary>
    protected SqliteTestFiles Files { get; } = new();

    /// <summary>The clock the stores run on, starting at <see cref="TaskStoreHarness.Start"/>.</summary>
    protected FakeTimeProvider Time { get; } = new(TaskStoreHarness.Start);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await Files.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
