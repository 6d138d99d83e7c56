using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using BitFaster.Caching.Scheduler;
using BuildingBlocks.Caching;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;

namespace BuildingBlocks.Benchmarks.Caching;

/// <summary>
/// One L1 hit: 1,024 string keys, all loaded before the run, read in the same order by every peer; each invocation
/// reads all 1,024, so figures are per read. The three read-through APIs that return a <see cref="ValueTask{T}"/>
/// (ours, FusionCache's <c>GetOrSetAsync</c>, HybridCache's <c>GetOrCreateAsync</c>) are consumed the same way:
/// <c>.Result</c> when the task completed synchronously (every hit does), an await otherwise. Every peer is given an
/// hour-long lifetime, so nothing expires during a run, and a static factory, so no closure is allocated per read.
/// Baseline: FusionCache <c>GetOrSetAsync</c>.
/// </summary>
[MemoryDiagnoser]
public class CacheHitBenchmarks
{
    private const int Keys = 1_024;
    private const int Capacity = 10_000;

    private static readonly Func<FusionCacheFactoryExecutionContext<string>, CancellationToken, Task<string>> FusionFactoryAsync =
        static (_, _) => Task.FromResult("loaded");

    private static readonly Func<FusionCacheFactoryExecutionContext<string>, CancellationToken, string> FusionFactory =
        static (_, _) => "loaded";

    private static readonly Func<string, CancellationToken, ValueTask<string>> HybridFactory =
        static (key, _) => new ValueTask<string>(CachingFixture.ValueFor(key));

    private static readonly Func<ICacheEntry, string> MemoryCacheFactory = static entry => CachingFixture.ValueFor((string)entry.Key);

    private string[] _keys = [];
    private Cache<string, string> _frequencyAware = null!;
    private Cache<string, string> _lru = null!;
    private FusionCache _fusion = null!;
    private ServiceProvider _services = null!;
    private HybridCache _hybrid = null!;
    private MemoryCache _memory = null!;
    private ConcurrentLfu<string, string> _bitFasterLfu = null!;
    private ConcurrentLru<string, string> _bitFasterLru = null!;

    [GlobalSetup]
    public void Setup()
    {
        _keys = CachingFixture.StringKeys(Keys);
        _frequencyAware = NewCache(EvictionPolicy.FrequencyAware);
        _lru = NewCache(EvictionPolicy.Lru);

        _fusion = new FusionCache(new FusionCacheOptions { DefaultEntryOptions = new FusionCacheEntryOptions { Duration = CachingFixture.Lifetime } });

        var services = new ServiceCollection();
        services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = CachingFixture.Lifetime,
            LocalCacheExpiration = CachingFixture.Lifetime,
        });
        _services = services.BuildServiceProvider();
        _hybrid = _services.GetRequiredService<HybridCache>();

        _memory = new MemoryCache(new MemoryCacheOptions());

        // Built as Cache builds its L1, so the rows show what the cache adds on top of the engine.
        int concurrency = Math.Max(Environment.ProcessorCount, 2);
        _bitFasterLfu = new ConcurrentLfu<string, string>(concurrency, Capacity, new ThreadPoolScheduler(), EqualityComparer<string>.Default);
        _bitFasterLru = new ConcurrentLru<string, string>(concurrency, Capacity, EqualityComparer<string>.Default);

        foreach (string key in _keys)
        {
            string value = CachingFixture.ValueFor(key);
            _ = Now(_frequencyAware.GetOrLoadAsync(key));
            _ = Now(_lru.GetOrLoadAsync(key));
            _fusion.Set(key, value);
            _hybrid.SetAsync(key, value).AsTask().GetAwaiter().GetResult();
            _memory.Set(key, value, CachingFixture.Lifetime);
            _bitFasterLfu.AddOrUpdate(key, value);
            _bitFasterLru.AddOrUpdate(key, value);
        }

        _frequencyAware.DoL1Maintenance();
        _bitFasterLfu.DoMaintenance();
        foreach (string key in _keys)
        {
            if (!_frequencyAware.TryGetLocal(key, out _) || !_lru.TryGetLocal(key, out _) || !_bitFasterLfu.TryGet(key, out _) || !_bitFasterLru.TryGet(key, out _))
            {
                throw new InvalidOperationException($"Key '{key}' was not in every cache after the preload.");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _frequencyAware.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _lru.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _fusion.Dispose();
        _services.Dispose();
        _memory.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Keys, Description = "FusionCache: GetOrSetAsync")]
    public int FusionCache_GetOrSetAsync()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += Now(_fusion.GetOrSetAsync<string>(key, FusionFactoryAsync)).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Description = "FusionCache: GetOrSet (sync)")]
    public int FusionCache_GetOrSet()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += _fusion.GetOrSet<string>(key, FusionFactory).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Description = "HybridCache: GetOrCreateAsync")]
    public int HybridCache_GetOrCreateAsync()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += Now(_hybrid.GetOrCreateAsync(key, key, HybridFactory)).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Description = "IMemoryCache: TryGetValue")]
    public int MemoryCache_TryGetValue()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            if (_memory.TryGetValue(key, out string? value))
            {
                sum += value!.Length;
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Description = "IMemoryCache: GetOrCreate")]
    public int MemoryCache_GetOrCreate()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += _memory.GetOrCreate(key, MemoryCacheFactory)!.Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Description = "BitFaster ConcurrentLfu: TryGet")]
    public int BitFasterLfu_TryGet()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            if (_bitFasterLfu.TryGet(key, out string? value))
            {
                sum += value.Length;
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Description = "BitFaster ConcurrentLru: TryGet")]
    public int BitFasterLru_TryGet()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            if (_bitFasterLru.TryGet(key, out string? value))
            {
                sum += value.Length;
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Description = "Cache (FrequencyAware): GetOrLoadAsync")]
    public int Cache_FrequencyAware_GetOrLoadAsync() => ReadAll(_frequencyAware);

    [Benchmark(OperationsPerInvoke = Keys, Description = "Cache (Lru): GetOrLoadAsync")]
    public int Cache_Lru_GetOrLoadAsync() => ReadAll(_lru);

    [Benchmark(OperationsPerInvoke = Keys, Description = "Cache (FrequencyAware): TryGetLocal")]
    public int Cache_FrequencyAware_TryGetLocal()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            if (_frequencyAware.TryGetLocal(key, out string value))
            {
                sum += value.Length;
            }
        }

        return sum;
    }

    /// <summary>Synchronously completed (every hit): the result; otherwise waits, as an await would.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Now<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private static Cache<string, string> NewCache(EvictionPolicy eviction) =>
        new(
            new NoOpStore<string, string>(CachingFixture.ValueFor),
            new CacheOptions<string, string>
            {
                Name = "hit-" + eviction,
                L1Capacity = Capacity,
                Eviction = eviction,
                Expiration = CachingFixture.Lifetime,
                UseDistributedCache = false,
            });

    private int ReadAll(Cache<string, string> cache)
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += Now(cache.GetOrLoadAsync(key))!.Length;
        }

        return sum;
    }
}
