using BuildingBlocks.Caching.Tests.Support;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Eviction;

public sealed class EvictionTests
{
    private readonly RecordingStore _store = new();

    public EvictionTests()
    {
        for (int i = 0; i < 2000; i++)
        {
            _store[$"k{i}"] = $"v{i}";
        }
    }

    [Theory]
    [InlineData(EvictionPolicy.FrequencyAware)]
    [InlineData(EvictionPolicy.Lru)]
    public async Task L1_StaysWithinL1Capacity_AndCountsEveryEviction(EvictionPolicy eviction)
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Eviction = eviction;
            o.L1Capacity = 50;
        });

        for (int i = 0; i < 500; i++)
        {
            await cache.GetOrLoadAsync($"k{i}", Ct);
            if (i % 50 == 0)
            {
                cache.DoL1Maintenance();
            }
        }

        cache.DoL1Maintenance();
        CacheStatistics stats = cache.GetStatistics();
        Assert.InRange(stats.L1Count, 1, 50);
        Assert.Equal(500, stats.L1Count + stats.Evictions);

        // Nothing was read after it was loaded: every eviction was of an entry never reused.
        Assert.Equal(stats.Evictions, stats.EvictedBeforeReuse);
    }

    [Theory]
    [InlineData(EvictionPolicy.FrequencyAware)]
    [InlineData(EvictionPolicy.Lru)]
    public async Task EvictedBeforeReuse_DoesNotCountEntriesThatWereRead(EvictionPolicy eviction)
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Eviction = eviction;
            o.L1Capacity = 20;
        });

        // Every entry is read once after it is loaded, then pushed out by newer ones.
        for (int i = 0; i < 300; i++)
        {
            await cache.GetOrLoadAsync($"k{i}", Ct);
            await cache.GetOrLoadAsync($"k{i}", Ct);
            if (i % 20 == 0)
            {
                cache.DoL1Maintenance();
            }
        }

        cache.DoL1Maintenance();
        CacheStatistics stats = cache.GetStatistics();
        Assert.True(stats.Evictions >= 200, $"{stats.Evictions} evictions");
        Assert.True(stats.EvictedBeforeReuse < stats.Evictions / 10, $"{stats.EvictedBeforeReuse} of {stats.Evictions} evictions counted as never reused");
    }

    [Fact]
    public async Task FrequencyAware_KeepsTheHotSet_ThroughAOneOffScan_WhichFlushesLru()
    {
        (int frequencyAware, int lru) = (await HotKeysLeftAfterScanAsync(EvictionPolicy.FrequencyAware), await HotKeysLeftAfterScanAsync(EvictionPolicy.Lru));

        Assert.True(frequencyAware >= 45, $"W-TinyLFU kept {frequencyAware} of 50 hot keys through the scan (LRU kept {lru})");

        // The same scan flushes the LRU's hot set: the test tells the two policies apart.
        Assert.True(lru <= 10, $"LRU kept {lru} of 50 hot keys through the scan (W-TinyLFU kept {frequencyAware})");
    }

    [Fact]
    public async Task FrequencyAware_HasTheBetterHitRatio_OnAHotSetInterleavedWithScans()
    {
        double frequencyAware = await HitRatioUnderScansAsync(EvictionPolicy.FrequencyAware);
        double lru = await HitRatioUnderScansAsync(EvictionPolicy.Lru);

        Assert.True(frequencyAware >= 0.8 && frequencyAware > lru + 0.3, $"hot-set hit ratio: W-TinyLFU {frequencyAware:P0}, LRU {lru:P0}");
    }

    private async Task<int> HotKeysLeftAfterScanAsync(EvictionPolicy eviction)
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Eviction = eviction;
            o.L1Capacity = 100;
        });
        string[] hot = [.. Enumerable.Range(0, 50).Select(i => $"k{i}")];

        for (int round = 0; round < 20; round++)
        {
            foreach (string key in hot)
            {
                await cache.GetOrLoadAsync(key, Ct);
            }

            cache.DoL1Maintenance();
        }

        // A one-off scan of 1,000 keys, each read twice in a row (load, then look again), which a recency-based L1
        // takes for reuse.
        for (int i = 1000; i < 2000; i++)
        {
            await cache.GetOrLoadAsync($"k{i}", Ct);
            await cache.GetOrLoadAsync($"k{i}", Ct);
            if (i % 25 == 0)
            {
                cache.DoL1Maintenance();
            }
        }

        cache.DoL1Maintenance();
        return hot.Count(k => cache.TryGetLocal(k, out _));
    }

    private async Task<double> HitRatioUnderScansAsync(EvictionPolicy eviction)
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Eviction = eviction;
            o.L1Capacity = 100;
        });
        string[] hot = [.. Enumerable.Range(0, 60).Select(i => $"k{i}")];
        int hits = 0, reads = 0, scan = 1000;

        for (int round = 0; round < 30; round++)
        {
            foreach (string key in hot)
            {
                reads++;
                hits += cache.TryGetLocal(key, out _) ? 1 : 0;
                await cache.GetOrLoadAsync(key, Ct);
            }

            for (int i = 0; i < 60; i++)
            {
                string once = $"k{scan++ % 1000 + 1000}";
                await cache.GetOrLoadAsync(once, Ct);
                await cache.GetOrLoadAsync(once, Ct);
            }

            cache.DoL1Maintenance();
        }

        return (double)hits / reads;
    }
}
