using BuildingBlocks.Caching.Tests.Support;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Telemetry;

public sealed class CacheStatisticsTests
{
    private readonly RecordingStore _store = new();

    [Theory]
    [InlineData(EvictionPolicy.Lru)]
    [InlineData(EvictionPolicy.FrequencyAware)]
    public async Task Statistics_CountEveryHitAndMiss_AsSoonAsTheReadReturns(EvictionPolicy eviction)
    {
        _store["a"] = "apple";
        await using Cache<string, string> cache = Create(_store, o => o.Eviction = eviction);

        await cache.GetOrLoadAsync("a", Ct);
        await cache.GetOrLoadAsync("a", Ct);
        await cache.GetOrLoadAsync("a", Ct);
        cache.TryGetLocal("a", out _);
        await cache.GetAsync("a", Ct);

        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(4, stats.Hits);
        Assert.Equal(1, stats.Misses);
        Assert.Equal(0.8, stats.HitRatio, 6);
        Assert.Equal(1, stats.StoreLoads);
        Assert.Equal(1, stats.L1Count);
    }

    [Fact]
    public async Task Statistics_BeforeAnyRead_HitRatioIsZero()
    {
        await using Cache<string, string> cache = Create(_store);
        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(0, stats.Hits);
        Assert.Equal(0, stats.Misses);
        Assert.Equal(0, stats.HitRatio);
    }

    [Fact]
    public async Task Statistics_ReadOfAWriteBackWriteNotYetFlushed_CountsAsAHit()
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Eviction = EvictionPolicy.Lru;
            o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1));
        }, time: NewClock());
        await cache.SetAsync("a", "1", Ct);
        await cache.InvalidateAsync("a", Ct);

        // L1 no longer has it; the pending write answers.
        Assert.True(cache.TryGetLocal("a", out string value));
        Assert.Equal("1", value);
        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(1, stats.Hits);
        Assert.Equal(0, stats.Misses);
        Assert.Equal(1, stats.PendingWrites);
    }
}
