using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Caching.Tests.Support;

/// <summary>Builds the caches the tests use: string keys and values, cache name "items", no expiry jitter unless asked.</summary>
public static class TestCaches
{
    public const string Name = "items";

    public static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static FakeTimeProvider NewClock() => new(Start);

    public static Cache<string, string> Create(
        RecordingStore<string, string> store,
        Action<CacheOptions<string, string>>? configure = null,
        IDistributedCache? l2 = null,
        ICacheBackplane? backplane = null,
        TimeProvider? time = null,
        IMeterFactory? meterFactory = null)
    {
        var options = new CacheOptions<string, string> { Name = Name, ExpirationJitter = TimeSpan.Zero };
        configure?.Invoke(options);
        return new Cache<string, string>(store, options, l2, backplane, time, loggerFactory: null, meterFactory);
    }

    public static MemoryDistributedCache NewL2() => new(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions()));

    /// <summary>The key under which the cache named <paramref name="cacheName"/> keeps <paramref name="key"/> in L2.</summary>
    public static string L2Key(string key, string cacheName = Name) => $"bbcache:{cacheName}:{key}";

    /// <summary>Write-back options for tests that need retries to happen on the real clock, quickly.</summary>
    public static void FastRetries(WriteBackOptions o)
    {
        o.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
        o.RetryMaxDelay = TimeSpan.FromMilliseconds(4);
        o.ShutdownTimeout = TimeSpan.FromSeconds(5);
    }

    /// <summary>
    /// Advances the fake clock by <paramref name="step"/> until <paramref name="task"/> completes: the timer the cache
    /// waits on may be created just after an advance, so one advance is not enough.
    /// </summary>
    public static async Task AdvanceUntilCompletedAsync(FakeTimeProvider time, Task task, TimeSpan step, string what)
    {
        using var limit = new CancellationTokenSource(Eventually.Limit);
        while (!task.IsCompleted)
        {
            if (limit.IsCancellationRequested)
            {
                Assert.Fail($"Timed out after {Eventually.Limit.TotalSeconds} s waiting until {what}.");
            }

            time.Advance(step);
            await Task.WhenAny(task, Task.Delay(10, CancellationToken.None));
        }
    }

    /// <summary>Advances the fake clock by <paramref name="step"/> until <paramref name="condition"/> holds (bounded).</summary>
    public static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> condition, TimeSpan step, string what)
    {
        using var limit = new CancellationTokenSource(Eventually.Limit);
        while (!condition())
        {
            if (limit.IsCancellationRequested)
            {
                Assert.Fail($"Timed out after {Eventually.Limit.TotalSeconds} s waiting until {what}.");
            }

            time.Advance(step);
            await Task.Delay(10, CancellationToken.None);
        }
    }

    /// <summary>
    /// Disposes (and so stops and flushes) the cache, failing the test instead of hanging when the flush cannot finish:
    /// for tests that hold the store or take it down, where a failed assertion would otherwise leave a flush waiting
    /// forever. On a fake clock the clock moves on meanwhile, so retry delays and the shutdown timeout pass.
    /// </summary>
    public static async Task DisposeWithinLimitAsync(Cache<string, string> cache, FakeTimeProvider? time = null)
    {
        Task disposing = cache.DisposeAsync().AsTask();
        if (time is null)
        {
            await Eventually.CompletesAsync(disposing, "the cache stops");
        }
        else
        {
            await AdvanceUntilCompletedAsync(time, disposing, TimeSpan.FromSeconds(1), "the cache stops");
        }
    }
}
