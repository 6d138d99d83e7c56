using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace BuildingBlocks.Caching.IntegrationTests.Support;

/// <summary>
/// One cache node as an application would set it up: its own host and container, L2 = StackExchange.Redis
/// <c>IDistributedCache</c>, the Redis backplane, and cache "products" over the store every node shares. Started with
/// the host (backplane subscription), stopped with it.
/// </summary>
public sealed class CacheNode : IAsyncDisposable
{
    private readonly IHost _host;

    private CacheNode(string name, IHost host)
    {
        Name = name;
        _host = host;
        Cache = host.Services.GetRequiredService<ICache<int, Product>>();
        Logs = host.Services.GetRequiredService<FakeLogCollector>();
    }

    public string Name { get; }

    public ICache<int, Product> Cache { get; }

    public FakeLogCollector Logs { get; }

    public IServiceProvider Services => _host.Services;

    public CacheStatistics Statistics => Cache.GetStatistics();

    /// <summary>Starts a node.</summary>
    /// <param name="name">For messages.</param>
    /// <param name="redis">The StackExchange.Redis configuration of L2 and of the backplane.</param>
    /// <param name="prefix">The test's own L2 instance name and backplane channel prefix: nodes of one test share it.</param>
    /// <param name="store">The shared backing store.</param>
    /// <param name="configure">The cache's options (strategy and so on); the name is always "products".</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <param name="services">Registers services before the caches' (for example a backplane decorator).</param>
    public static async Task<CacheNode> StartAsync(
        string name,
        string redis,
        string prefix,
        SharedProductStore store,
        Action<CacheOptions<int, Product>> configure,
        CancellationToken cancellationToken,
        Action<IServiceCollection>? services = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLogging(logging => logging.AddFakeLogging().SetMinimumLevel(LogLevel.Information));
        builder.Services.AddStackExchangeRedisCache(o =>
        {
            o.Configuration = redis;
            o.InstanceName = prefix + ":";
        });
        services?.Invoke(builder.Services);
        builder.Services.AddCacheStrategies()
            .UseRedisBackplane(o =>
            {
                o.Configuration = redis;
                o.ChannelPrefix = prefix;
            })
            .AddCache<int, Product>(o =>
            {
                configure(o);
                o.Name = "products";
            })
            .WithBackingStore(_ => store);

        IHost host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new CacheNode(name, host);
    }

    /// <summary>Counters and the warnings and errors logged so far, for assertion messages.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"node {Name}: {Statistics}");
        foreach (FakeLogRecord record in Logs.GetSnapshot().Where(r => r.Level >= LogLevel.Warning).TakeLast(20))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {record.Level} [{record.Category}] {record.Message} {record.Exception?.GetType().Name} {record.Exception?.Message}");
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _host.StopAsync(timeout.Token);
        }
        finally
        {
            if (_host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                _host.Dispose();
            }
        }
    }
}
