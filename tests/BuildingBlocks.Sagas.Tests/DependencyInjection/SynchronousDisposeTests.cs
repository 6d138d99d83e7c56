using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Sagas.Tests.DependencyInjection;

public sealed class SynchronousDisposeTests
{
    [Fact]
    public void ContainerDisposedWithoutAwait_AfterTheClientWasUsed_DisposesCleanly()
    {
        ServiceCollection services = new();
        services.AddLogging();
        services.AddSagas().AddSaga<SagaServiceCollectionExtensionsTests.OrderSaga, TestData>();
        ServiceProvider provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<ISagaClient>();

        // Plain `using var provider = services.BuildServiceProvider()` (console apps, tests, other containers) disposes synchronously.
        Exception? error = Record.Exception(provider.Dispose);

        Assert.Null(error);
    }
}
