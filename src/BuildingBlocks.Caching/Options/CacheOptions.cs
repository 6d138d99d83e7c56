using System.Text.Json;

namespace BuildingBlocks.Caching;

/// <summary>Options of one typed cache.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class CacheOptions<TKey, TValue>
    where TKey : notnull
{
    /// <summary>
    /// The cache's name: it prefixes L2 keys and routes backplane messages, so every node must use the same name for
    /// the same data. Defaults to the value type's name.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>The strategy for writes the <see cref="StrategyPolicy"/> does not decide. Default write-through.</summary>
    public WriteStrategy Strategy { get; set; } = WriteStrategy.WriteThrough;

    /// <summary>
    /// Chooses the strategy per write from the key and value (hybrid): for example critical data write-through,
    /// counters write-back. Null: every write uses <see cref="Strategy"/>. Removes use <see cref="Strategy"/>.
    /// </summary>
    public Func<TKey, TValue, WriteStrategy>? StrategyPolicy { get; set; }

    /// <summary>The write-back flusher's options (used by write-back and hybrid caches).</summary>
    public WriteBackOptions WriteBackOptions { get; } = new();

    /// <summary>The most entries L1 holds. Default 10,000.</summary>
    public int L1Capacity { get; set; } = 10_000;

    /// <summary>How L1 evicts. Default <see cref="EvictionPolicy.FrequencyAware"/> (W-TinyLFU).</summary>
    public EvictionPolicy Eviction { get; set; } = EvictionPolicy.FrequencyAware;

    /// <summary>How long an entry lives after it is cached (absolute). Default 5 minutes.</summary>
    public TimeSpan Expiration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When set, an L1 entry also expires once it has not been read for this long (never later than
    /// <see cref="Expiration"/>).
    /// </summary>
    public TimeSpan? SlidingExpiration { get; set; }

    /// <summary>
    /// A random extra lifetime of up to this much per entry, so entries cached together do not expire together.
    /// Null: a tenth of <see cref="Expiration"/>. <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    public TimeSpan? ExpirationJitter { get; set; }

    /// <summary>Whether L2 (the registered or given <c>IDistributedCache</c>) is used. Default true.</summary>
    public bool UseDistributedCache { get; set; } = true;

    /// <summary>How long an entry lives in L2. Null: <see cref="Expiration"/>.</summary>
    public TimeSpan? DistributedExpiration { get; set; }

    /// <summary>Values that serialize to more bytes than this skip L2 (counted and logged). Default 1 MiB.</summary>
    public int MaxDistributedValueBytes { get; set; } = 1024 * 1024;

    /// <summary>How long one L2 or backplane call may take before the cache carries on without it. Default 1 second.</summary>
    public TimeSpan DistributedTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>After an L2 failure, how long L2 is skipped before it is tried again. Default 5 seconds.</summary>
    public TimeSpan DistributedCircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a load from the backing store may take. Default 30 seconds.</summary>
    public TimeSpan LoadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a write-through or write-around store call may take. Default 30 seconds.</summary>
    public TimeSpan StoreWriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Serializes values for L2 and the journal. Null: System.Text.Json with <see cref="JsonOptions"/>.</summary>
    public ICacheSerializer<TValue>? ValueSerializer { get; set; }

    /// <summary>
    /// System.Text.Json options for keys (backplane, journal) and, unless <see cref="ValueSerializer"/> is set, values.
    /// Null: web defaults.
    /// </summary>
    public JsonSerializerOptions? JsonOptions { get; set; }

    /// <summary>Turns a key into the string part of its L2 key. Null: invariant <c>ToString()</c> for simple keys, JSON otherwise.</summary>
    public Func<TKey, string>? KeyFormatter { get; set; }

    /// <summary>Compares keys in L1. Null: the default comparer.</summary>
    public IEqualityComparer<TKey>? KeyComparer { get; set; }

    /// <summary>Every write goes to the store and the cache before it returns.</summary>
    public CacheOptions<TKey, TValue> WriteThrough()
    {
        Strategy = WriteStrategy.WriteThrough;
        StrategyPolicy = null;
        return this;
    }

    /// <summary>Every write goes to the store and invalidates the cache.</summary>
    public CacheOptions<TKey, TValue> WriteAround()
    {
        Strategy = WriteStrategy.WriteAround;
        StrategyPolicy = null;
        return this;
    }

    /// <summary>Every write updates the cache and reaches the store later, batched and coalesced.</summary>
    public CacheOptions<TKey, TValue> WriteBack(Action<WriteBackOptions>? configure = null)
    {
        Strategy = WriteStrategy.WriteBack;
        StrategyPolicy = null;
        configure?.Invoke(WriteBackOptions);
        return this;
    }

    /// <summary>
    /// Hybrid: <paramref name="policy"/> picks the strategy per write (for example write-through for prices,
    /// write-back for view counters); removes use <paramref name="removeStrategy"/>.
    /// </summary>
    public CacheOptions<TKey, TValue> Hybrid(
        Func<TKey, TValue, WriteStrategy> policy,
        Action<WriteBackOptions>? configure = null,
        WriteStrategy removeStrategy = WriteStrategy.WriteThrough)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Strategy = removeStrategy;
        StrategyPolicy = policy;
        configure?.Invoke(WriteBackOptions);
        return this;
    }
}
