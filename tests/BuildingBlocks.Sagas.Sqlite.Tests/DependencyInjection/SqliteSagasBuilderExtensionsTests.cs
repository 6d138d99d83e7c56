using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Sqlite.Tests.DependencyInjection;

public sealed class SqliteSagasBuilderExtensionsTests : IDisposable
{
    private readonly TempDirectory _directory = new("bb-sagas-sqlite-di");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task UseSqlite_ReplacesTheInMemoryDefault_WithOneSqliteStoreOnTheFile()
    {
        string path = _directory.File("data/sagas.db");
        var services = new ServiceCollection();
        services.AddSagas().UseSqlite(path, o => o.BusyTimeout = TimeSpan.FromSeconds(5));
        await using ServiceProvider provider = services.BuildServiceProvider();

        ISagaStore store = provider.GetRequiredService<ISagaStore>();

        SqliteSagaStore sqlite = Assert.IsType<SqliteSagaStore>(store);
        Assert.Same(sqlite, provider.GetRequiredService<SqliteSagaStore>());
        Assert.Equal(path, sqlite.DatabasePath);
        Assert.Single(services, d => d.ServiceType == typeof(ISagaStore));
        Assert.Equal(TimeSpan.FromSeconds(5), provider.GetRequiredService<IOptions<SqliteSagaStoreOptions>>().Value.BusyTimeout);
        Assert.Equal(SqliteSagaSynchronous.Full, provider.GetRequiredService<IOptions<SqliteSagaStoreOptions>>().Value.Synchronous);

        Assert.True(await store.CreateAsync(new SagaStoreHarness(store, new FakeTimeProvider()).Saga("order-1"), [], Ct));
        await using var reader = new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = path });
        Assert.NotNull(await reader.GetAsync("order-1", Ct));
    }

    [Fact]
    public async Task UseSqlite_CalledTwice_KeepsOneStore_OnTheLastFile()
    {
        var services = new ServiceCollection();
        services.AddSagas().UseSqlite(_directory.File("first.db")).UseSqlite(_directory.File("second.db"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(ISagaStore));
        Assert.Single(services, d => d.ServiceType == typeof(SqliteSagaStore));
        Assert.Equal(_directory.File("second.db"), Assert.IsType<SqliteSagaStore>(provider.GetRequiredService<ISagaStore>()).DatabasePath);
    }

    [Fact]
    public async Task UseSqlite_BeforeAddSagasRunsAgain_StillWins()
    {
        var services = new ServiceCollection();
        services.AddSagas().UseSqlite(_directory.File("sagas.db"));
        services.AddSagas();
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.IsType<SqliteSagaStore>(provider.GetRequiredService<ISagaStore>());
    }

    [Fact]
    public async Task UseSqlite_StoreUsesTheContainersTimeProvider()
    {
        var time = new FakeTimeProvider(SagaStoreHarness.Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSagas().UseSqlite(_directory.File("sagas.db"));
        await using ServiceProvider provider = services.BuildServiceProvider();
        var s = new SagaStoreHarness(provider.GetRequiredService<ISagaStore>(), time);

        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");

        Assert.Equal(SagaStoreHarness.Start + SagaStoreHarness.DefaultLease, leased.LeaseExpiresAt);
    }

    [Fact]
    public async Task UseSqlite_ConnectionStringInsteadOfDataSource_IsUsed()
    {
        string path = _directory.File("by-connection-string.db");
        var services = new ServiceCollection();
        services.AddSagas().UseSqlite("ignored.db", o =>
        {
            o.DataSource = null;
            o.ConnectionString = $"Data Source={path}";
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal(path, Assert.IsType<SqliteSagaStore>(provider.GetRequiredService<ISagaStore>()).DatabasePath);
    }

    [Fact]
    public async Task InvalidOptions_FailTheHostStart_WithMessagesNamingTheOptions()
    {
        HostApplicationBuilder host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        host.Services.AddSagas().UseSqlite(":memory:", o =>
        {
            o.BusyTimeout = TimeSpan.Zero;
            o.MaxWritesPerTransaction = 0;
        });
        using IHost app = host.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(Ct));

        Assert.Contains(error.Failures, f => f.StartsWith("SqliteSagaStoreOptions.DataSource is ':memory:'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("SqliteSagaStoreOptions.BusyTimeout is 00:00:00", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("SqliteSagaStoreOptions.MaxWritesPerTransaction is 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheContainer_DisposesTheStore_SynchronouslyToo()
    {
        var services = new ServiceCollection();
        services.AddSagas().UseSqlite(_directory.File("sagas.db"));
        SqliteSagaStore store;
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            store = provider.GetRequiredService<SqliteSagaStore>();
            Assert.Empty(await store.QueryAsync(new SagaQuery(), Ct));
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetAsync("order-1", Ct));
    }

    [Fact]
    public void UseSqlite_NullArguments_Throw()
    {
        ISagasBuilder builder = new ServiceCollection().AddSagas();

        Assert.Throws<ArgumentNullException>(() => SqliteSagasBuilderExtensions.UseSqlite(null!, "sagas.db"));
        Assert.Throws<ArgumentNullException>(() => builder.UseSqlite(null!));
    }
}
