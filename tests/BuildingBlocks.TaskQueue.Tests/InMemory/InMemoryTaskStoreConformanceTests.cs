using BuildingBlocks.TaskQueue.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Tests.InMemory;

/// <summary>The reference store against the shared suite: what every other store is measured by.</summary>
public sealed class InMemoryTaskStoreConformanceTests : TaskStoreConformanceTests
{
    protected override ValueTask<ITaskStore> CreateStoreAsync(FakeTimeProvider time) =>
        new(new InMemoryTaskStore(time));
}
