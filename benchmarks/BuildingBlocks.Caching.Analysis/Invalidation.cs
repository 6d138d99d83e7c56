using System.Collections.Concurrent;
using System.Diagnostics;
using BuildingBlocks.Caching.Redis;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Caching.Analysis;

/// <summary>Percentiles of one latency, in milliseconds.</summary>
internal sealed record Percentiles(double P50, double P90, double P99, double Max, double Mean)
{
    public static Percentiles Of(IReadOnlyList<double> samples)
    {
        double[] sorted = [.. samples.Order()];
        return new Percentiles(At(sorted, 0.50), At(sorted, 0.90), At(sorted, 0.99), sorted[^1], sorted.Average());
    }

    /// <summary>Nearest rank: the smallest sample that at least <paramref name="quantile"/> of the samples do not exceed.</summary>
    private static double At(double[] sorted, double quantile) => sorted[Math.Max(0, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
}

/// <summary>The outcome of the invalidation run.</summary>
internal sealed record InvalidationResult(int Samples, int Warmup, Percentiles Invalidated, Percentiles SetAsync, string RedisVersion, int StaleAfterSignal);

/// <summary>
/// Cross-node invalidation over Redis pub/sub: two caches ("node A", "node B") with the same name, each with its own
/// <see cref="RedisCacheBackplane"/> (own connection) to a redis-server started for the run on a free loopback port,
/// write-through to one shared in-memory store. Per sample: node B loads the key (L1 holds the old value), then the clock
/// starts and node A calls <c>SetAsync</c> (store, A's L1, publish); the clock stops when node B has applied the
/// invalidation, measured by a decorator around B's backplane subscriber that timestamps right after the cache's own
/// handler returned (the key is out of B's L1 then; the run checks with <c>TryGetLocal</c>).
/// </summary>
internal static class InvalidationAnalysis
{
    public static async Task<InvalidationResult> RunAsync(int samples, int warmup, TextWriter progress)
    {
        await using RedisServer server = await RedisServer.StartAsync();
        string version = await server.ExecuteAsync(["INFO", "server"]) is { } info
            ? info.Split('\n').FirstOrDefault(l => l.StartsWith("redis_version:", StringComparison.Ordinal))?.Trim()["redis_version:".Length..] ?? "?"
            : "?";
        progress.WriteLine($"redis-server {version} on {server.EndPoint}");

        var store = new SharedStore();
        await using var backplaneA = new RedisCacheBackplane(new RedisBackplaneOptions { Configuration = server.ConnectionString });
        await using var backplaneB = new RedisCacheBackplane(new RedisBackplaneOptions { Configuration = server.ConnectionString });
        var timedB = new TimedBackplane(backplaneB);
        await using var nodeA = new Cache<string, string>(store, Options(), backplane: backplaneA);
        await using var nodeB = new Cache<string, string>(store, Options(), backplane: timedB);
        await nodeA.StartAsync();
        await nodeB.StartAsync();

        var invalidated = new List<double>(samples);
        var setAsync = new List<double>(samples);
        int stale = 0;
        for (int i = 0; i < warmup + samples; i++)
        {
            // A fresh key per sample: node B loads it (its L1 now holds the old value), nothing else is in flight for it.
            string key = "product:" + i;
            store.Set(key, "old-" + i);
            string? old = await nodeB.GetOrLoadAsync(key);
            if (old != "old-" + i || !nodeB.TryGetLocal(key, out _))
            {
                throw new InvalidOperationException($"Node B did not cache '{key}' before the write (read '{old}').");
            }

            timedB.Arm(key);
            long start = Stopwatch.GetTimestamp();
            await nodeA.SetAsync(key, "new-" + i);
            long acknowledged = Stopwatch.GetTimestamp();
            long applied = await timedB.WaitAsync(key, TimeSpan.FromSeconds(5));
            if (nodeB.TryGetLocal(key, out string? held) && held == "old-" + i)
            {
                stale++;
            }

            if (i >= warmup)
            {
                invalidated.Add(Stopwatch.GetElapsedTime(start, applied).TotalMilliseconds);
                setAsync.Add(Stopwatch.GetElapsedTime(start, acknowledged).TotalMilliseconds);
            }
        }

        CacheStatistics b = nodeB.GetStatistics();
        progress.WriteLine($"node B: {b.InvalidationsReceived:N0} invalidations received, {b.Revalidations} revalidations; node A: {nodeA.GetStatistics().InvalidationsSent:N0} sent");
        return new InvalidationResult(samples, warmup, Percentiles.Of(invalidated), Percentiles.Of(setAsync), version, stale);
    }

    private static CacheOptions<string, string> Options() => new CacheOptions<string, string>
    {
        Name = "products",
        Expiration = TimeSpan.FromHours(1),
        UseDistributedCache = false,
    }.WriteThrough();

    private sealed class SharedStore : IBackingStore<string, string>
    {
        private readonly ConcurrentDictionary<string, string> _rows = new(StringComparer.Ordinal);

        public void Set(string key, string value) => _rows[key] = value;

        public ValueTask<LoadResult<string>> LoadAsync(string key, CancellationToken cancellationToken) =>
            new(_rows.TryGetValue(key, out string? value) ? LoadResult<string>.Found(value) : LoadResult<string>.NotFound);

        public ValueTask<IReadOnlyDictionary<string, string>> LoadManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) =>
            new(keys.Where(_rows.ContainsKey).ToDictionary(k => k, k => _rows[k], StringComparer.Ordinal));

        public ValueTask SaveAsync(IReadOnlyList<KeyValuePair<string, string>> entries, CancellationToken cancellationToken)
        {
            foreach (KeyValuePair<string, string> entry in entries)
            {
                _rows[entry.Key] = entry.Value;
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
        {
            foreach (string key in keys)
            {
                _rows.TryRemove(key, out _);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Wraps node B's backplane: every message goes to the cache's own subscriber first, then the time is taken and
    /// whoever waits for that key is released.
    /// </summary>
    private sealed class TimedBackplane(ICacheBackplane inner) : ICacheBackplane
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _waiting = new(StringComparer.Ordinal);

        public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken) => inner.PublishAsync(message, cancellationToken);

        public ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken) =>
            inner.SubscribeAsync(new Subscriber(this, subscriber), cancellationToken);

        public void Arm(string key) => _waiting[key] = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Waits for the invalidation of <paramref name="key"/> after <see cref="Arm"/>; returns when it was applied.</summary>
        public async Task<long> WaitAsync(string key, TimeSpan timeout)
        {
            TaskCompletionSource<long> waiter = _waiting[key];
            long applied = await waiter.Task.WaitAsync(timeout);
            _waiting.TryRemove(new KeyValuePair<string, TaskCompletionSource<long>>(key, waiter));
            return applied;
        }

        private void Applied(BackplaneMessage message, long timestamp)
        {
            if (message.Kind != BackplaneMessageKind.Invalidate || message.Key.IsEmpty)
            {
                return;
            }

            string key = System.Text.Json.JsonSerializer.Deserialize<string>(message.Key.Span) ?? "";
            if (_waiting.TryGetValue(key, out TaskCompletionSource<long>? waiter))
            {
                waiter.TrySetResult(timestamp);
            }
        }

        private sealed class Subscriber(TimedBackplane owner, ICacheBackplaneSubscriber cache) : ICacheBackplaneSubscriber
        {
            public void OnMessage(BackplaneMessage message)
            {
                cache.OnMessage(message);
                owner.Applied(message, Stopwatch.GetTimestamp());
            }

            public void OnMessagesMayHaveBeenMissed(string reason) => cache.OnMessagesMayHaveBeenMissed(reason);
        }
    }
}
