using BuildingBlocks.Sagas.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Tests.InMemory;

/// <summary>The reference store against the shared suite: what every other store is measured by.</summary>
public sealed class InMemorySagaStoreConformanceTests : SagaStoreConformanceTests
{
    protected override ValueTask<ISagaStore> CreateStoreAsync(FakeTimeProvider time) =>
        new(new InMemorySagaStore(time));
}
