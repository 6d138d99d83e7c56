using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.TaskQueue.Sqlite.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Storage;

/// <summary>The SQLite store against the shared suite; every test gets a fresh database file in its own temp directory.</summary>
public sealed class SqliteTaskStoreConformanceTests : TaskStoreConformanceTests, IAsyncLifetime
{
    private readonly SqliteTestFiles _files = new();

    protected override ValueTask<ITaskStore> CreateStoreAsync(FakeTimeProvider time) =>
        new(_files.CreateStore(time, $"tasks-{Guid.NewGuid():N}.db"));

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _files.DisposeAsync();
}
