using BuildingBlocks.Sagas.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.DependencyInjection;

/// <summary>UsePostgreSql: replaces the default store, validates options at start, uses the container's clock and data source.</summary>
public sealed class PostgreSqlSagasBuilderExtensionsTests(PostgreSqlFixture fixture) : StoreFactory(fixture)
{
    [Fact]
    public async Task UsePostgreSql_ReplacesTheInMemoryStoreOfAddSagas_WithOneSingletonOnTheContainersClock()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var time = new FakeTimeProvider(Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);

        services.AddSagas().UsePostgreSql(ConnectionString, o => o.Schema = schema);
        services.AddSagas(); // safe to call again: the in-memory default does not come back
        await using ServiceProvider provider = services.BuildServiceProvider();

        var store = Assert.IsType<PostgreSqlSagaStore>(provider.GetRequiredService<ISagaStore>());
        Assert.Same(store, provider.GetRequiredService<PostgreSqlSagaStore>());
        Assert.Single(services, d => d.ServiceType == typeof(ISagaStore));
        Assert.Equal(schema, store.Schema);
        Assert.True(await store.CreateAsync(Saga("s1", Start), [], Ct));
        SagaRecord leased = Assert.Single(await store.AcquireAsync("node-a", Names, 1, TimeSpan.FromMinutes(1), Ct));
        Assert.Equal(Start.AddMinutes(1), leased.LeaseExpiresAt);
    }

    [Fact]
    public async Task UsePostgreSql_CalledAgain_TheLastChoiceWins()
    {
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(ConnectionString);
        string schema = PostgreSqlDatabase.NewSchema();
        var services = new ServiceCollection();
        ISagasBuilder builder = services.AddSagas();

        builder.UsePostgreSql("Host=first.invalid", o => o.Schema = "first");
        builder.UsePostgreSql(_ => dataSource, o => o.Schema = schema);
        await using ServiceProvider provider = services.BuildServiceProvider();

        var store = Assert.IsType<PostgreSqlSagaStore>(provider.GetRequiredService<ISagaStore>());
        Assert.Single(services, d => d.ServiceType == typeof(ISagaStore));
        Assert.Equal(schema, store.Schema);
        Assert.Same(dataSource, store.DataSource);
    }

    [Fact]
    public async Task ADataSourceFromTheContainer_IsUsed_AndNotDisposedWithTheStore()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var services = new ServiceCollection();
        services.AddSingleton(NpgsqlDataSource.Create(ConnectionString));
        services.AddSagas().UsePostgreSql(sp => sp.GetRequiredService<NpgsqlDataSource>(), o => o.Schema = schema);
        NpgsqlDataSource dataSource;
        await using (ServiceProvider provider = services.BuildServiceProvider())
        {
            dataSource = provider.GetRequiredService<NpgsqlDataSource>();
            PostgreSqlSagaStore store = provider.GetRequiredService<PostgreSqlSagaStore>();
            Assert.Same(dataSource, store.DataSource);
            Assert.True(await store.CreateAsync(Saga("s1", Start), [], Ct));
            await store.DisposeAsync();

            await using NpgsqlCommand count = dataSource.CreateCommand($"SELECT count(*) FROM \"{schema}\".sagas;");
            Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
        }
    }

    [Fact]
    public async Task InvalidOptions_FailTheHostStart_WithMessagesNamingTheOptions()
    {
        HostApplicationBuilder host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        host.Services.AddSagas().UsePostgreSql("Host=localhost", o =>
        {
            o.Schema = "Bad-Name";
            o.CommandTimeout = TimeSpan.Zero;
        });
        using IHost app = host.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(Ct));

        Assert.Contains("PostgreSqlSagaStoreOptions.Schema is 'Bad-Name'", error.Message, StringComparison.Ordinal);
        Assert.Contains("PostgreSqlSagaStoreOptions.CommandTimeout is 00:00:00", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AContainerDisposedWithoutAwait_DisposesTheStore()
    {
        var services = new ServiceCollection();
        services.AddSagas().UsePostgreSql(ConnectionString, o => o.Schema = PostgreSqlDatabase.NewSchema());
        ServiceProvider provider = services.BuildServiceProvider();
        PostgreSqlSagaStore store = provider.GetRequiredService<PostgreSqlSagaStore>();

        provider.Dispose();

        _ = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetAsync("s1", Ct));
    }
}
