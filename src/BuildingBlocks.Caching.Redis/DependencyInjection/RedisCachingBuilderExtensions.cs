using BuildingBlocks.Caching;
using BuildingBlocks.Caching.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the Redis pub/sub backplane into the caches registered with <c>AddCacheStrategies</c>.</summary>
public static class RedisCachingBuilderExtensions
{
    /// <summary>
    /// Carries the caches' invalidations between nodes over Redis pub/sub: <see cref="RedisCacheBackplane"/> becomes the
    /// <see cref="ICacheBackplane"/> singleton (unless one is registered already) and its options are validated at
    /// start-up. The backplane logs through the container's <see cref="ILoggerFactory"/> and is disposed with the
    /// container. Calling it again reconfigures the same backplane.
    /// </summary>
    /// <param name="builder">The builder <c>AddCacheStrategies</c> returned.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, for example <c>"localhost:6379"</c>.</param>
    /// <returns>The builder.</returns>
    public static ICachingBuilder UseRedisBackplane(this ICachingBuilder builder, string configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return builder.UseRedisBackplane(o => o.Configuration = configuration);
    }

    /// <summary>
    /// As <see cref="UseRedisBackplane(ICachingBuilder, string)"/>, configured in code: set
    /// <see cref="RedisBackplaneOptions.Configuration"/> or <see cref="RedisBackplaneOptions.ConnectionMultiplexerFactory"/>
    /// (to share a connection the application owns), and optionally <see cref="RedisBackplaneOptions.ChannelPrefix"/>.
    /// </summary>
    /// <param name="builder">The builder <c>AddCacheStrategies</c> returned.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static ICachingBuilder UseRedisBackplane(this ICachingBuilder builder, Action<RedisBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<RedisBackplaneOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisBackplaneOptions>, RedisBackplaneOptionsValidator>());
        builder.Services.TryAddSingleton(sp => new RedisCacheBackplane(
            sp.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value,
            sp.GetService<ILoggerFactory>()));
        builder.Services.TryAddSingleton<ICacheBackplane>(sp => sp.GetRequiredService<RedisCacheBackplane>());
        return builder;
    }
}
