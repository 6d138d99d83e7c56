using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using BuildingBlocks.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers typed caches, their backing stores and the parts they share.</summary>
public static class CachingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the cache host: every cache added through the returned builder is started and stopped with the app
    /// (write-back buffers flushed at shutdown). Safe to call more than once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>A builder for caches, the backplane and the journal.</returns>
    public static ICachingBuilder AddCacheStrategies(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CacheHostedService>());
        return new CachingBuilder(services);
    }

    /// <summary>
    /// Adds the default cache of <typeparamref name="TValue"/> by <typeparamref name="TKey"/>: resolve
    /// <see cref="ICache{TKey,TValue}"/>. Pick its backing store with <c>WithBackingStore</c>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the options (strategy, L1, expiry, write-back).</param>
    /// <returns>A builder for the backing store.</returns>
    public static ICacheBuilder<TKey, TValue> AddCache<TKey, TValue>(this ICachingBuilder builder, Action<CacheOptions<TKey, TValue>>? configure = null)
        where TKey : notnull =>
        builder.AddCache(Options.Options.DefaultName, configure);

    /// <summary>
    /// Adds a named cache, resolved with <c>GetRequiredKeyedService&lt;ICache&lt;TKey, TValue&gt;&gt;(name)</c>; its name is
    /// also its <see cref="CacheOptions{TKey,TValue}.Name"/> unless the options set one.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The registration name; "" is the default cache of these types.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder for the backing store.</returns>
    public static ICacheBuilder<TKey, TValue> AddCache<TKey, TValue>(this ICachingBuilder builder, string name, Action<CacheOptions<TKey, TValue>>? configure)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(name);
        IServiceCollection services = builder.Services;

        OptionsBuilder<CacheOptions<TKey, TValue>> options = services.AddOptions<CacheOptions<TKey, TValue>>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure<IServiceProvider>((o, sp) =>
        {
            o.Name ??= name.Length == 0 ? typeof(TValue).Name : name;
            o.WriteBackOptions.Journal ??= sp.GetService<IWriteBackJournal>();
        });
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CacheOptions<TKey, TValue>>, CacheOptionsValidator<TKey, TValue>>());

        services.TryAddKeyedSingleton<Cache<TKey, TValue>>(name, (sp, _) =>
        {
            CacheOptions<TKey, TValue> resolved = sp.GetRequiredService<IOptionsMonitor<CacheOptions<TKey, TValue>>>().Get(name);
            IBackingStore<TKey, TValue> store = sp.GetKeyedService<IBackingStore<TKey, TValue>>(name)
                ?? throw new InvalidOperationException(
                    $"Cache '{resolved.Name}' ({typeof(TKey).Name} → {typeof(TValue).Name}) has no backing store: call .WithBackingStore<TStore>() after AddCache.");
            return new Cache<TKey, TValue>(
                store,
                resolved,
                sp.GetService<IDistributedCache>(),
                sp.GetService<ICacheBackplane>(),
                sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>(),
                sp.GetService<IMeterFactory>());
        });
        services.TryAddKeyedSingleton<ICache<TKey, TValue>>(name, (sp, key) => sp.GetRequiredKeyedService<Cache<TKey, TValue>>(key));
        if (name.Length == 0)
        {
            services.TryAddSingleton(sp => sp.GetRequiredKeyedService<Cache<TKey, TValue>>(Options.Options.DefaultName));
            services.TryAddSingleton<ICache<TKey, TValue>>(sp => sp.GetRequiredKeyedService<Cache<TKey, TValue>>(Options.Options.DefaultName));
        }

        if (!services.Any(d => d.ServiceType == typeof(CacheRegistration) && d.ImplementationInstance is CacheRegistration r && r.Name == RegistrationKey<TKey, TValue>(name)))
        {
            services.AddSingleton(new CacheRegistration(RegistrationKey<TKey, TValue>(name), sp => sp.GetRequiredKeyedService<Cache<TKey, TValue>>(name)));
        }

        return new CacheBuilder<TKey, TValue>(services, name, builder);
    }

    /// <summary>Uses the store the factory returns as the cache's backing store.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Creates the store.</param>
    /// <returns>The builder.</returns>
    public static ICacheBuilder<TKey, TValue> WithBackingStore<TKey, TValue>(this ICacheBuilder<TKey, TValue> builder, Func<IServiceProvider, IBackingStore<TKey, TValue>> factory)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.RemoveAllKeyed<IBackingStore<TKey, TValue>>(builder.Name);
        builder.Services.AddKeyedSingleton<IBackingStore<TKey, TValue>>(builder.Name, (sp, _) => factory(sp));
        return builder;
    }

    /// <summary>Connects every cache of this process through one in-process backplane (for tests and single-process apps).</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ICachingBuilder UseInMemoryBackplane(this ICachingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<ICacheBackplane, InMemoryCacheBackplane>();
        return builder;
    }

    private static string RegistrationKey<TKey, TValue>(string name) => $"{typeof(TKey).FullName}|{typeof(TValue).FullName}|{name}";

    private sealed class CachingBuilder(IServiceCollection services) : ICachingBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    private sealed class CacheBuilder<TKey, TValue>(IServiceCollection services, string name, ICachingBuilder caching) : ICacheBuilder<TKey, TValue>
        where TKey : notnull
    {
        public IServiceCollection Services { get; } = services;

        public string Name { get; } = name;

        public ICachingBuilder Caching { get; } = caching;

        public ICacheBuilder<TKey, TValue> WithBackingStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>()
            where TStore : class, IBackingStore<TKey, TValue>
        {
            Services.TryAddSingleton<TStore>();
            return this.WithBackingStore(static sp => sp.GetRequiredService<TStore>());
        }
    }
}
