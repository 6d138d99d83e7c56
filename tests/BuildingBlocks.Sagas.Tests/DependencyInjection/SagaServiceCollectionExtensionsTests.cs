using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BuildingBlocks.Sagas.Tests.DependencyInjection;

public sealed class SagaServiceCollectionExtensionsTests
{
    public sealed class OrderSaga : SagaDefinition<TestData>
    {
        protected override void Define(SagaBuilder<TestData> saga) => saga.Step("a").Execute((_, _) => Task.CompletedTask);
    }

    [Fact]
    public async Task AddSagas_RegistersClientOperatorStoreAndOneHostedService_AsSingletons()
    {
        ServiceCollection services = new();
        services.AddLogging();
        services.AddSagas().AddSaga<OrderSaga, TestData>();
        await using ServiceProvider provider = services.BuildServiceProvider();

        ISagaClient client = provider.GetRequiredService<ISagaClient>();
        Assert.Same(client, provider.GetRequiredService<ISagaClient>());
        Assert.Same(client, provider.GetRequiredService<ISagaOperator>());
        Assert.IsType<InMemorySagaStore>(provider.GetRequiredService<ISagaStore>());
        Assert.Same(provider.GetRequiredService<ISagaStore>(), provider.GetRequiredService<ISagaStore>());
        Assert.Single(provider.GetServices<IHostedService>());
    }

    [Fact]
    public void AddSagasTwice_AndAddSagaTwice_RegisterEverythingOnce()
    {
        ServiceCollection services = new();
        services.AddLogging();
        services.AddSagas().AddSaga<OrderSaga, TestData>();
        services.AddSagas(o => o.PollInterval = TimeSpan.FromSeconds(2)).AddSaga<OrderSaga, TestData>();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<IHostedService>());
        Assert.Single(services, d => d.ServiceType == typeof(ISagaStore));
        Assert.Single(services, d => d.ServiceType == typeof(ISagaClient));
        Assert.Single(services, d => d.ServiceType == typeof(OrderSaga));
        Assert.Equal(TimeSpan.FromSeconds(2), provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<SagaOptions>>().Value.PollInterval);
    }

    [Fact]
    public async Task AddSagaTwice_DoesNotCountAsADuplicateDefinition()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Definition<OrderSaga, TestData>().Definition<OrderSaga, TestData>());

        string id = await host.StartSagaAsync();

        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    [Fact]
    public void StoreRegisteredBeforeAddSagas_IsKept()
    {
        InMemorySagaStore mine = new();
        ServiceCollection services = new();
        services.AddSingleton<ISagaStore>(mine);
        services.AddSagas();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(mine, provider.GetRequiredService<ISagaStore>());
    }

    [Fact]
    public async Task InMemoryStore_UsesTheRegisteredTimeProvider()
    {
        Microsoft.Extensions.Time.Testing.FakeTimeProvider clock = Clock.NewFake();
        ServiceCollection services = new();
        services.AddSingleton<TimeProvider>(clock);
        services.AddSagas();
        using ServiceProvider provider = services.BuildServiceProvider();
        ISagaStore store = provider.GetRequiredService<ISagaStore>();
        Assert.True(await store.CreateAsync(
            new SagaRecord
            {
                Id = "x", Name = "order", Version = 1, Status = SagaStatus.Running, Data = "{}", Progress = "{}",
                CreatedAt = clock.GetUtcNow(), UpdatedAt = clock.GetUtcNow(),
            },
            [],
            SagaTestHost.Ct));

        SagaRecord leased = Assert.Single(await store.AcquireAsync("me", ["order"], 1, TimeSpan.FromMinutes(1), SagaTestHost.Ct));

        Assert.Equal(Clock.Start + TimeSpan.FromMinutes(1), leased.LeaseExpiresAt);
    }

    [Fact]
    public async Task HostWithoutCoordinator_StartsAndStops_AndStillValidatesDefinitions()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Options(o => o.RunCoordinator = false);
            b.Definition<OrderSaga, TestData>();
        });

        string id = await host.StartSagaAsync();
        await host.StopAsync();

        Assert.Equal(SagaStatus.Running, (await host.Client.GetAsync(id, SagaTestHost.Ct))!.Status);
    }

    [Fact]
    public async Task CoordinatorStart_IsLoggedWithItsIdStoreAndDefinitions()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Definition<OrderSaga, TestData>());

        Microsoft.Extensions.Logging.Testing.FakeLogRecord started = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 4000);
        Assert.Contains(host.CoordinatorId, started.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(InMemorySagaStore), started.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(OrderSaga), started.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullArguments_AreRefused()
    {
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddSagas());
        Assert.Throws<ArgumentNullException>(() => ((ISagasBuilder)null!).AddSaga<OrderSaga, TestData>());
    }
}
