using BuildingBlocks.Caching.Redis.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildingBlocks.Caching.Redis.Tests.DependencyInjection;

/// <summary>UseRedisBackplane: what it registers, TryAdd semantics, validation at start-up, logging, disposal.</summary>
public sealed class RedisCachingBuilderExtensionsTests(RedisFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UseRedisBackplane_RegistersOneBackplaneSingleton_ThatCarriesMessages()
    {
        var services = new ServiceCollection();
        string prefix = Backplanes.UniquePrefix();
        new TestCachingBuilder(services).UseRedisBackplane(o =>
        {
            o.Configuration = fixture.ConnectionString;
            o.ChannelPrefix = prefix;
        });
        await using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        ICacheBackplane backplane = provider.GetRequiredService<ICacheBackplane>();
        var received = new RecordingSubscriber();
        await using (await backplane.SubscribeAsync(received, Ct))
        {
            await backplane.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1), Ct);
            await received.WaitUntilAsync(s => s.Messages.Count == 1, Backplanes.Eventually, "the message through the registered backplane");
        }

        RedisCacheBackplane redis = Assert.IsType<RedisCacheBackplane>(backplane);
        Assert.Same(redis, provider.GetRequiredService<RedisCacheBackplane>());
        Assert.Same(backplane, provider.GetRequiredService<ICacheBackplane>());
        Assert.Equal($"{prefix}:invalidations", redis.Channel);
    }

    [Fact]
    public async Task UseRedisBackplane_WithTheApplicationsConnectionFromTheContainer_UsesItAndLeavesItOpen()
    {
        var services = new ServiceCollection();
        string prefix = Backplanes.UniquePrefix();
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(fixture.ConnectionString));
        new TestCachingBuilder(services).UseRedisBackplane(o => o.ChannelPrefix = prefix);
        services.AddOptions<RedisBackplaneOptions>().Configure<IServiceProvider>((o, sp) =>
            o.ConnectionMultiplexerFactory = () => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>()));
        IConnectionMultiplexer shared;
        await using (ServiceProvider provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            shared = provider.GetRequiredService<IConnectionMultiplexer>();
            var backplane = provider.GetRequiredService<RedisCacheBackplane>();
            var received = new RecordingSubscriber();
            await using (await backplane.SubscribeAsync(received, Ct))
            {
                await backplane.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1), Ct);
                await received.WaitUntilAsync(s => s.Messages.Count == 1, Backplanes.Eventually, "the message over the shared connection");
            }

            await backplane.DisposeAsync();
            Assert.True(shared.IsConnected);
            _ = await shared.GetDatabase().PingAsync();
        }
    }

    [Fact]
    public void UseRedisBackplane_WithAConfigurationString_UsesTheDefaultPrefix()
    {
        var services = new ServiceCollection();
        new TestCachingBuilder(services).UseRedisBackplane("localhost:6379");
        using ServiceProvider provider = services.BuildServiceProvider();

        RedisBackplaneOptions options = provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value;

        Assert.Equal("localhost:6379", options.Configuration);
        Assert.Equal("buildingblocks:cache:invalidations", provider.GetRequiredService<RedisCacheBackplane>().Channel);
    }

    [Fact]
    public void UseRedisBackplane_CalledTwice_RegistersOnce_AndTheLastConfigurationWins()
    {
        var services = new ServiceCollection();
        var builder = new TestCachingBuilder(services);

        Assert.Same(builder, builder.UseRedisBackplane("first:6379"));
        builder.UseRedisBackplane("second:6379");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(ICacheBackplane));
        Assert.Single(services, d => d.ServiceType == typeof(RedisCacheBackplane));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<RedisBackplaneOptions>));
        Assert.Equal("second:6379", provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value.Configuration);
    }

    [Fact]
    public void UseRedisBackplane_KeepsABackplaneRegisteredBefore()
    {
        var services = new ServiceCollection();
        var existing = new NoBackplane();
        services.AddSingleton<ICacheBackplane>(existing);

        new TestCachingBuilder(services).UseRedisBackplane("localhost:6379");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(existing, provider.GetRequiredService<ICacheBackplane>());
    }

    [Fact]
    public void UseRedisBackplane_InvalidOptions_FailAtStartUpWithTheOptionsName()
    {
        var services = new ServiceCollection();
        new TestCachingBuilder(services).UseRedisBackplane(o => o.ChannelPrefix = "");
        using ServiceProvider provider = services.BuildServiceProvider();

        // What the host runs at start-up for ValidateOnStart.
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("RedisBackplaneOptions.Configuration is empty and ConnectionMultiplexerFactory is null", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisBackplaneOptions.ChannelPrefix is ''", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseRedisBackplane_NullArguments_Throw()
    {
        var builder = new TestCachingBuilder(new ServiceCollection());

        Assert.Throws<ArgumentNullException>(() => builder.UseRedisBackplane((string)null!));
        Assert.Throws<ArgumentNullException>(() => builder.UseRedisBackplane((Action<RedisBackplaneOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => ((ICachingBuilder)null!).UseRedisBackplane("localhost"));
    }

    [Fact]
    public async Task UseRedisBackplane_LogsThroughTheContainersLoggerFactory()
    {
        var logs = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(new FakeLoggerFactory(logs));
        new TestCachingBuilder(services).UseRedisBackplane(o =>
        {
            o.Configuration = fixture.ConnectionString;
            o.ChannelPrefix = Backplanes.UniquePrefix();
        });

        await using (ServiceProvider provider = services.BuildServiceProvider())
        {
            await using IAsyncDisposable subscription = await provider.GetRequiredService<ICacheBackplane>().SubscribeAsync(new RecordingSubscriber(), Ct);
        }

        FakeLogRecord subscribed = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3100);
        Assert.Equal("BuildingBlocks.Caching.Redis", subscribed.Category);
    }

    [Fact]
    public async Task DisposingTheContainer_DisposesTheBackplane()
    {
        var services = new ServiceCollection();
        new TestCachingBuilder(services).UseRedisBackplane(o =>
        {
            o.Configuration = fixture.ConnectionString;
            o.ChannelPrefix = Backplanes.UniquePrefix();
        });
        ServiceProvider provider = services.BuildServiceProvider();
        ICacheBackplane backplane = provider.GetRequiredService<ICacheBackplane>();
        await backplane.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1), Ct);

        await provider.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => backplane.PublishAsync(Backplanes.Message(Guid.NewGuid(), 2), Ct).AsTask());
    }

    private sealed class TestCachingBuilder(IServiceCollection services) : ICachingBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    private sealed class NoBackplane : ICacheBackplane
    {
        public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
