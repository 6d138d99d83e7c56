using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.DependencyInjection;

public sealed class CachingServiceCollectionExtensionsTests
{
    private static async Task<IHost> StartHostAsync(Action<IServiceCollection> configure)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configure(builder.Services);
        IHost host = builder.Build();
        await host.StartAsync(Ct);
        return host;
    }

    [Fact]
    public void AddCacheStrategies_CalledTwice_RegistersOneHostedService()
    {
        var services = new ServiceCollection();
        services.AddCacheStrategies();
        services.AddCacheStrategies();

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
    }

    [Fact]
    public async Task AddCache_WithBackingStore_ResolvesOneCache_AsICacheCacheAndTheDefaultKey()
    {
        var services = new ServiceCollection();
        services.AddCacheStrategies().AddCache<string, string>(o => o.WriteThrough()).WithBackingStore<RecordingStore>();
        await using ServiceProvider provider = services.BuildServiceProvider();

        ICache<string, string> cache = provider.GetRequiredService<ICache<string, string>>();
        Assert.IsType<Cache<string, string>>(cache);
        Assert.Same(cache, provider.GetRequiredService<Cache<string, string>>());
        Assert.Same(cache, provider.GetRequiredKeyedService<ICache<string, string>>(""));
        Assert.Equal("String", cache.Name);

        // The store is the registered singleton.
        await cache.SetAsync("k", "v", Ct);
        Assert.Equal("v", provider.GetRequiredService<RecordingStore>()["k"]);
    }

    [Fact]
    public async Task NamedCaches_AreKeyed_AndHaveTheirOwnNamesStoresAndOptions()
    {
        var prices = new RecordingStore();
        var views = new RecordingStore();
        var services = new ServiceCollection();
        services.AddCacheStrategies()
            .AddCache<string, string>("prices", o => o.WriteThrough()).WithBackingStore(_ => prices)
            .Caching.AddCache<string, string>("views", o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1))).WithBackingStore(_ => views);
        await using ServiceProvider provider = services.BuildServiceProvider();

        ICache<string, string> pricesCache = provider.GetRequiredKeyedService<ICache<string, string>>("prices");
        ICache<string, string> viewsCache = provider.GetRequiredKeyedService<ICache<string, string>>("views");
        Assert.NotSame(pricesCache, viewsCache);
        Assert.Equal("prices", pricesCache.Name);
        Assert.Equal("views", viewsCache.Name);
        Assert.Null(provider.GetService<ICache<string, string>>());

        await pricesCache.SetAsync("p", "9.99", Ct);
        await viewsCache.SetAsync("v", "1", Ct);
        Assert.Equal("9.99", prices["p"]);
        Assert.False(views.Data.ContainsKey("v"));
        Assert.False(prices.Data.ContainsKey("v"));
    }

    [Fact]
    public void NamedCache_OptionsNameWins_OverTheRegistrationName()
    {
        var services = new ServiceCollection();
        services.AddCacheStrategies().AddCache<string, string>("registration", o => o.Name = "shared-name").WithBackingStore(_ => new RecordingStore());
        ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal("shared-name", provider.GetRequiredKeyedService<ICache<string, string>>("registration").Name);
        _ = provider.DisposeAsync().AsTask();
    }

    /// <summary>
    /// Console apps and tests write <c>using var provider = services.BuildServiceProvider();</c>. A resolved cache must
    /// not turn the provider's synchronous Dispose into an exception (and its write-back writes must still be flushed).
    /// </summary>
    [Fact]
    public async Task ServiceProvider_DisposedSynchronously_DisposesTheCaches_InsteadOfThrowing()
    {
        var store = new RecordingStore();
        var services = new ServiceCollection();
        services.AddCacheStrategies().AddCache<string, string>(o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1))).WithBackingStore(_ => store);
        ServiceProvider provider = services.BuildServiceProvider();
        await provider.GetRequiredService<ICache<string, string>>().SetAsync("k", "v", Ct);

        Exception? error = Record.Exception(provider.Dispose);

        Assert.Null(error);
        Assert.Equal("v", store["k"]);
    }

    [Fact]
    public void AddCache_Twice_KeepsOneCache_AndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();
        ICachingBuilder caching = services.AddCacheStrategies();
        caching.AddCache<string, string>(o => o.L1Capacity = 77).WithBackingStore<RecordingStore>();
        caching.AddCache<string, string>(o => o.Expiration = TimeSpan.FromMinutes(9));
        using ServiceProvider provider = services.BuildServiceProvider();

        CacheOptions<string, string> options = provider.GetRequiredService<IOptionsMonitor<CacheOptions<string, string>>>().Get("");
        Assert.Equal(77, options.L1Capacity);
        Assert.Equal(TimeSpan.FromMinutes(9), options.Expiration);
        Assert.Single(services, d => d.ServiceType == typeof(ICache<string, string>) && !d.IsKeyedService);
        Assert.Single(services, d => d.ServiceType == typeof(ICache<string, string>) && d.IsKeyedService);
    }

    [Fact]
    public async Task WithBackingStore_Twice_TheLastStoreWins()
    {
        var first = new RecordingStore();
        var second = new RecordingStore();
        var services = new ServiceCollection();
        services.AddCacheStrategies().AddCache<string, string>().WithBackingStore(_ => first).WithBackingStore(_ => second);
        await using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<ICache<string, string>>().SetAsync("k", "v", Ct);

        Assert.Empty(first.Calls);
        Assert.Equal("v", second["k"]);
    }

    [Fact]
    public void MissingBackingStore_ThrowsNamingTheCacheAndTheFix()
    {
        var services = new ServiceCollection();
        services.AddCacheStrategies().AddCache<string, string>("orphan", null);
        using ServiceProvider provider = services.BuildServiceProvider();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredKeyedService<ICache<string, string>>("orphan"));

        Assert.Contains("Cache 'orphan'", error.Message, StringComparison.Ordinal);
        Assert.Contains("has no backing store: call .WithBackingStore<TStore>() after AddCache.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingBackingStore_FailsHostStart()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddCacheStrategies().AddCache<string, string>();
        using IHost host = builder.Build();

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));
        Assert.Contains("WithBackingStore", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptions_FailHostStart_WithAMessageNamingTheOption()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddCacheStrategies()
            .AddCache<string, string>("bad", o =>
            {
                o.L1Capacity = 1;
                o.WriteBack(w => w.MaxAttempts = 0);
            })
            .WithBackingStore<RecordingStore>();
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));
        Assert.Contains("CacheOptions<String, String>.L1Capacity is 1; it must be at least 3.", error.Message, StringComparison.Ordinal);
        Assert.Contains("WriteBack.MaxAttempts is 0; it must be at least 1.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStop_FlushesWriteBackWrites()
    {
        var store = new RecordingStore();
        using IHost host = await StartHostAsync(s => s.AddCacheStrategies()
            .AddCache<string, string>(o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)))
            .WithBackingStore(_ => store));
        ICache<string, string> cache = host.Services.GetRequiredService<ICache<string, string>>();
        for (int i = 0; i < 10; i++)
        {
            await cache.SetAsync($"k{i}", $"v{i}", Ct);
        }

        Assert.Empty(store.Calls);
        await host.StopAsync(Ct);

        Assert.Equal(10, store.Data.Count);
        Assert.Equal(0, cache.GetStatistics().PendingWrites);
    }

    [Fact]
    public async Task UseInMemoryBackplane_ConnectsCachesOfOneName_StartedByTheHost()
    {
        var store = new RecordingStore();
        store["k"] = "old";
        using IHost host = await StartHostAsync(s => s.AddCacheStrategies().UseInMemoryBackplane().UseInMemoryBackplane()
            .AddCache<string, string>("node-a", o => o.Name = "shared").WithBackingStore(_ => store)
            .Caching.AddCache<string, string>("node-b", o => o.Name = "shared").WithBackingStore(_ => store));
        ICache<string, string> a = host.Services.GetRequiredKeyedService<ICache<string, string>>("node-a");
        ICache<string, string> b = host.Services.GetRequiredKeyedService<ICache<string, string>>("node-b");
        Assert.IsType<InMemoryCacheBackplane>(host.Services.GetRequiredService<ICacheBackplane>());
        Assert.Single(host.Services.GetServices<ICacheBackplane>());
        await b.GetOrLoadAsync("k", Ct);

        await a.SetAsync("k", "new", Ct);

        Assert.False(b.TryGetLocal("k", out _));
        Assert.Equal("new", await b.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, b.GetStatistics().InvalidationsReceived);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task RegisteredTimeProviderAndDistributedCache_AreUsed()
    {
        var time = new FakeTimeProvider(Start);
        var store = new RecordingStore();
        store["k"] = "v";
        using IHost host = await StartHostAsync(s =>
        {
            s.AddSingleton<TimeProvider>(time);
            s.AddDistributedMemoryCache();
            s.AddCacheStrategies()
                .AddCache<string, string>("a", o =>
                {
                    o.Name = "shared";
                    o.Expiration = TimeSpan.FromMinutes(1);
                }).WithBackingStore(_ => store)
                .Caching.AddCache<string, string>("b", o => o.Name = "shared").WithBackingStore(_ => store);
        });
        ICache<string, string> a = host.Services.GetRequiredKeyedService<ICache<string, string>>("a");
        ICache<string, string> b = host.Services.GetRequiredKeyedService<ICache<string, string>>("b");

        await a.GetOrLoadAsync("k", Ct);
        Assert.NotNull(await host.Services.GetRequiredService<IDistributedCache>().GetAsync(L2Key("k", "shared"), Ct));
        Assert.Equal("v", await b.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, store.Loads);

        // Expiration plus the default jitter of a tenth, on the registered clock.
        time.Advance(TimeSpan.FromSeconds(66));
        Assert.False(a.TryGetLocal("k", out _));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task RegisteredJournal_IsUsedByWriteBack_AndReplayedAtStart()
    {
        var journal = new InMemoryJournal();
        journal.Seed("String", "\"from-last-run\"", "\"survived\"", version: 1);
        var store = new RecordingStore();
        using IHost host = await StartHostAsync(s =>
        {
            s.AddSingleton<IWriteBackJournal>(journal);
            s.AddCacheStrategies().AddCache<string, string>(o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1))).WithBackingStore(_ => store);
        });
        ICache<string, string> cache = host.Services.GetRequiredService<ICache<string, string>>();

        // Replayed at start: waiting for the store, and readable meanwhile.
        Assert.Equal(1, cache.GetStatistics().PendingWrites);
        Assert.Equal("survived", await cache.GetOrLoadAsync("from-last-run", Ct));

        await cache.SetAsync("k", "v", Ct);
        Assert.Equal(1, journal.Appends);

        await host.StopAsync(Ct);
        Assert.Equal("survived", store["from-last-run"]);
        Assert.Equal("v", store["k"]);
        Assert.Empty(journal.Entries);
    }
}
