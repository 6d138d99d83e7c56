using System.Diagnostics.CodeAnalysis;
using BuildingBlocks.Caching;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <c>AddCacheStrategies</c>: adds typed caches and the parts every cache shares (backplane, journal).
/// </summary>
public interface ICachingBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Returned by <c>AddCache&lt;TKey, TValue&gt;</c>: plugs a backing store into one typed cache.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public interface ICacheBuilder<TKey, TValue>
    where TKey : notnull
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }

    /// <summary>The cache's name: the options name and the service key of a named cache.</summary>
    string Name { get; }

    /// <summary>The shared builder, to add more caches.</summary>
    ICachingBuilder Caching { get; }

    /// <summary>Uses <typeparamref name="TStore"/> (a singleton unless already registered) as the cache's backing store.</summary>
    /// <typeparam name="TStore">The store type.</typeparam>
    /// <returns>This builder.</returns>
    ICacheBuilder<TKey, TValue> WithBackingStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>()
        where TStore : class, IBackingStore<TKey, TValue>;
}
