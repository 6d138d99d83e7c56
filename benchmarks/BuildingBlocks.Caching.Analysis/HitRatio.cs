using System.Reflection;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using BitFaster.Caching.Scheduler;

namespace BuildingBlocks.Caching.Analysis;

/// <summary>What the hit-ratio trace looks like.</summary>
/// <param name="Requests">Requests in the trace, scans included.</param>
/// <param name="Keys">Keys the Zipf part draws from.</param>
/// <param name="Skew">The Zipf exponent.</param>
/// <param name="ScanEvery">A block of this many requests holds one scan.</param>
/// <param name="ScanLength">Keys per scan: fresh keys (never requested before or after), each requested once.</param>
/// <param name="Seed">Seeds the Zipf draws and the rank-to-key permutation.</param>
internal sealed record TraceSettings(int Requests, int Keys, double Skew, int ScanEvery, int ScanLength, int Seed)
{
    /// <summary>
    /// Each block of <see cref="ScanEvery"/> requests is Zipf draws, then a scan of <see cref="ScanLength"/> fresh keys
    /// in the middle, then Zipf draws again. Fresh keys are numbered from <see cref="Keys"/> up.
    /// </summary>
    public int[] Build()
    {
        var zipf = new Zipf(Keys, Skew, Seed);
        int[] trace = new int[Requests];
        int nextFresh = Keys;
        int scanStart = (ScanEvery - ScanLength) / 2;
        for (int i = 0; i < Requests; i++)
        {
            int inBlock = i % ScanEvery;
            trace[i] = inBlock >= scanStart && inBlock < scanStart + ScanLength ? nextFresh++ : zipf.Next();
        }

        return trace;
    }

    public bool IsScan(int key) => key >= Keys;
}

/// <summary>Hits of one policy over one trace, split into Zipf and scan requests (scan requests can never hit).</summary>
internal sealed record HitRatioResult(string Policy, int Capacity, long Requests, long Hits, long ZipfRequests, long ZipfHits, TimeSpan Elapsed)
{
    public double HitRatio => (double)Hits / Requests;

    public double ZipfHitRatio => ZipfRequests == 0 ? 0 : (double)ZipfHits / ZipfRequests;
}

internal static class HitRatioAnalysis
{
    /// <summary>
    /// Replays the trace through <see cref="Cache{TKey,TValue}"/>: <c>GetOrLoadAsync</c> per request against a store
    /// that answers at once and counts loads; a request that made the store load is a miss. W-TinyLFU maintenance
    /// (which BitFaster.Caching otherwise runs on the thread pool a little later) runs after every request, so the
    /// replay is deterministic and no read is dropped from the frequency sketch.
    /// </summary>
    public static HitRatioResult ReplayCache(int[] trace, TraceSettings settings, int capacity, EvictionPolicy eviction)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var store = new CountingStore();
        var cache = new Cache<int, int>(store, new CacheOptions<int, int>
        {
            Name = "hit-ratio",
            L1Capacity = capacity,
            Eviction = eviction,
            Expiration = TimeSpan.FromDays(1),
            ExpirationJitter = TimeSpan.Zero,
            UseDistributedCache = false,
        });
        Action maintenance = L1Maintenance(cache);
        long hits = 0, zipfRequests = 0, zipfHits = 0;
        foreach (int key in trace)
        {
            long loadsBefore = store.Loads;
            ValueTask<int> read = cache.GetOrLoadAsync(key);
            if (!read.IsCompletedSuccessfully)
            {
                read.AsTask().GetAwaiter().GetResult();
            }

            maintenance();
            bool hit = store.Loads == loadsBefore;
            hits += hit ? 1 : 0;
            if (!settings.IsScan(key))
            {
                zipfRequests++;
                zipfHits += hit ? 1 : 0;
            }
        }

        cache.DisposeAsync().AsTask().GetAwaiter().GetResult();
        string name = eviction == EvictionPolicy.FrequencyAware ? "Cache, EvictionPolicy.FrequencyAware (W-TinyLFU)" : "Cache, EvictionPolicy.Lru (BitFaster pseudo-LRU)";
        return new HitRatioResult(name, capacity, trace.Length, hits, zipfRequests, zipfHits, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// The same trace straight through a BitFaster.Caching engine built as <see cref="Cache{TKey,TValue}"/> builds its L1
    /// (TryGet, AddOrUpdate on a miss; W-TinyLFU maintenance after every request): shows whether the cache's own logic
    /// around the engine changes what it keeps.
    /// </summary>
    public static HitRatioResult ReplayBitFaster(int[] trace, TraceSettings settings, int capacity, EvictionPolicy eviction)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int concurrency = Math.Max(Environment.ProcessorCount, 2);
        ConcurrentLfu<int, int>? lfu = eviction == EvictionPolicy.FrequencyAware
            ? new ConcurrentLfu<int, int>(concurrency, capacity, new ThreadPoolScheduler(), EqualityComparer<int>.Default)
            : null;
        ConcurrentLru<int, int>? lru = lfu is null ? new ConcurrentLru<int, int>(concurrency, capacity, EqualityComparer<int>.Default) : null;
        BitFaster.Caching.ICache<int, int> engine = (BitFaster.Caching.ICache<int, int>?)lfu ?? lru!;
        long hits = 0, zipfRequests = 0, zipfHits = 0;
        foreach (int key in trace)
        {
            bool hit = engine.TryGet(key, out _);
            if (!hit)
            {
                engine.AddOrUpdate(key, key);
            }

            lfu?.DoMaintenance();
            hits += hit ? 1 : 0;
            if (!settings.IsScan(key))
            {
                zipfRequests++;
                zipfHits += hit ? 1 : 0;
            }
        }

        string name = lfu is not null ? "BitFaster ConcurrentLfu alone (reference)" : "BitFaster ConcurrentLru alone (reference)";
        return new HitRatioResult(name, capacity, trace.Length, hits, zipfRequests, zipfHits, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>A textbook LRU (linked list + dictionary), for reference: what "LRU" means in the literature.</summary>
    public static HitRatioResult ReplayTextbookLru(int[] trace, TraceSettings settings, int capacity)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var order = new LinkedList<int>();
        var nodes = new Dictionary<int, LinkedListNode<int>>(capacity);
        long hits = 0, zipfRequests = 0, zipfHits = 0;
        foreach (int key in trace)
        {
            bool hit = nodes.TryGetValue(key, out LinkedListNode<int>? node);
            if (hit)
            {
                order.Remove(node!);
                order.AddFirst(node!);
            }
            else
            {
                if (nodes.Count == capacity)
                {
                    nodes.Remove(order.Last!.Value);
                    order.RemoveLast();
                }

                nodes[key] = order.AddFirst(key);
            }

            hits += hit ? 1 : 0;
            if (!settings.IsScan(key))
            {
                zipfRequests++;
                zipfHits += hit ? 1 : 0;
            }
        }

        return new HitRatioResult("Textbook LRU (reference)", capacity, trace.Length, hits, zipfRequests, zipfHits, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Belady's optimal replacement, computed offline from the whole trace: on a miss with a full cache, evict the key
    /// whose next request is farthest away, or do not cache the requested key at all if its own next request is the
    /// farthest (bypass, which an admission policy like W-TinyLFU's may also do). No online policy can do better.
    /// </summary>
    public static HitRatioResult ReplayBelady(int[] trace, TraceSettings settings, int capacity)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int n = trace.Length;
        int[] nextUse = new int[n];
        var lastSeen = new Dictionary<int, int>();
        for (int i = n - 1; i >= 0; i--)
        {
            nextUse[i] = lastSeen.TryGetValue(trace[i], out int next) ? next : int.MaxValue;
            lastSeen[trace[i]] = i;
        }

        // Cached key -> its next request; the heap holds (key, next request) with stale entries skipped lazily.
        var cached = new Dictionary<int, int>(capacity);
        var farthest = new PriorityQueue<int, int>(capacity, Comparer<int>.Create(static (a, b) => b.CompareTo(a)));
        long hits = 0, zipfRequests = 0, zipfHits = 0;
        for (int i = 0; i < n; i++)
        {
            int key = trace[i];
            bool hit = cached.ContainsKey(key);
            if (hit)
            {
                cached[key] = nextUse[i];
                farthest.Enqueue(key, nextUse[i]);
            }
            else if (nextUse[i] != int.MaxValue)
            {
                if (cached.Count < capacity)
                {
                    cached[key] = nextUse[i];
                    farthest.Enqueue(key, nextUse[i]);
                }
                else
                {
                    while (true)
                    {
                        farthest.TryPeek(out int victim, out int victimNext);
                        if (cached.TryGetValue(victim, out int current) && current == victimNext)
                        {
                            break;
                        }

                        farthest.Dequeue();
                    }

                    farthest.TryPeek(out int evict, out int evictNext);
                    if (nextUse[i] < evictNext)
                    {
                        farthest.Dequeue();
                        cached.Remove(evict);
                        cached[key] = nextUse[i];
                        farthest.Enqueue(key, nextUse[i]);
                    }
                }
            }

            hits += hit ? 1 : 0;
            if (!settings.IsScan(key))
            {
                zipfRequests++;
                zipfHits += hit ? 1 : 0;
            }
        }

        return new HitRatioResult("Belady's optimum (offline ceiling)", capacity, trace.Length, hits, zipfRequests, zipfHits, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// <c>Cache.DoL1Maintenance()</c> is internal (visible to the tests and BuildingBlocks.Benchmarks); this app reaches it
    /// by reflection, once, as a delegate.
    /// </summary>
    private static Action L1Maintenance(Cache<int, int> cache)
    {
        MethodInfo method = typeof(Cache<int, int>).GetMethod("DoL1Maintenance", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("Cache<TKey,TValue>.DoL1Maintenance() was not found: the replay needs it to run W-TinyLFU maintenance synchronously.");
        return method.CreateDelegate<Action>(cache);
    }

    private sealed class CountingStore : IBackingStore<int, int>
    {
        public long Loads { get; private set; }

        public ValueTask<LoadResult<int>> LoadAsync(int key, CancellationToken cancellationToken)
        {
            Loads++;
            return new ValueTask<LoadResult<int>>(LoadResult<int>.Found(key));
        }

        public ValueTask<IReadOnlyDictionary<int, int>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
        {
            Loads += keys.Count;
            return new ValueTask<IReadOnlyDictionary<int, int>>(keys.ToDictionary(k => k, k => k));
        }

        public ValueTask SaveAsync(IReadOnlyList<KeyValuePair<int, int>> entries, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DeleteAsync(IReadOnlyList<int> keys, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
