using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteBack;

public sealed class HybridTests
{
    private readonly RecordingStore _store = new();
    private readonly FakeTimeProvider _time = NewClock();

    private static WriteStrategy PricesThroughViewsBack(string key, string value) =>
        key.StartsWith("price:", StringComparison.Ordinal) ? WriteStrategy.WriteThrough : WriteStrategy.WriteBack;

    [Fact]
    public async Task Policy_RoutesEachWrite_ByKeyAndValue()
    {
        await using Cache<string, string> cache = Create(_store, o => o.Hybrid(PricesThroughViewsBack), time: _time);

        await cache.SetAsync("price:1", "9.99", Ct);
        await cache.SetAsync("views:1", "41", Ct);
        await cache.SetAsync("views:1", "42", Ct);

        Assert.Equal("9.99", _store["price:1"]);
        Assert.False(_store.Data.ContainsKey("views:1"));
        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(1, stats.PendingWrites);
        Assert.Equal(1, stats.CoalescedWrites);
        Assert.True(cache.TryGetLocal("views:1", out string views));
        Assert.Equal("42", views);

        await cache.FlushAsync(Ct);
        Assert.Equal("42", _store["views:1"]);
        Assert.Equal(2, cache.GetStatistics().StoreWrites);
    }

    [Fact]
    public async Task Policy_CanLookAtTheValue()
    {
        await using Cache<string, string> cache = Create(_store, o => o.Hybrid((_, v) => v.StartsWith('!') ? WriteStrategy.WriteAround : WriteStrategy.WriteBack), time: _time);

        await cache.SetAsync("a", "!urgent", Ct);
        await cache.SetAsync("b", "lazy", Ct);

        Assert.Equal("!urgent", _store["a"]);
        Assert.False(cache.TryGetLocal("a", out _));
        Assert.False(_store.Data.ContainsKey("b"));
    }

    [Fact]
    public async Task Remove_UsesTheRemoveStrategy()
    {
        _store["price:1"] = "1";
        _store["views:1"] = "1";
        await using Cache<string, string> through = Create(_store, o => o.Hybrid(PricesThroughViewsBack), time: _time);
        await using Cache<string, string> back = Create(_store, o => o.Hybrid(PricesThroughViewsBack, removeStrategy: WriteStrategy.WriteBack), time: _time);

        await through.RemoveAsync("price:1", Ct);
        Assert.False(_store.Data.ContainsKey("price:1"));

        await back.RemoveAsync("views:1", Ct);
        Assert.True(_store.Data.ContainsKey("views:1"));
        Assert.Null(await back.GetOrLoadAsync("views:1", Ct));
        await back.FlushAsync(Ct);
        Assert.False(_store.Data.ContainsKey("views:1"));
    }

    [Fact]
    public async Task ExplicitStrategy_OverridesThePolicy()
    {
        await using Cache<string, string> cache = Create(_store, o => o.Hybrid(PricesThroughViewsBack), time: _time);

        await cache.SetAsync("views:1", "now", WriteStrategy.WriteThrough, Ct);

        Assert.Equal("now", _store["views:1"]);
        Assert.Equal(0, cache.GetStatistics().PendingWrites);
    }

    [Fact]
    public void FluentMethods_ReplaceAPreviousPolicy()
    {
        var options = new CacheOptions<string, string>();
        options.Hybrid(PricesThroughViewsBack, w => w.MaxBatchSize = 9, WriteStrategy.WriteAround);
        Assert.Equal(WriteStrategy.WriteAround, options.Strategy);
        Assert.NotNull(options.StrategyPolicy);
        Assert.Equal(9, options.WriteBackOptions.MaxBatchSize);

        options.WriteThrough();
        Assert.Null(options.StrategyPolicy);
        Assert.Equal(WriteStrategy.WriteThrough, options.Strategy);
        options.Hybrid(PricesThroughViewsBack);
        options.WriteBack();
        Assert.Null(options.StrategyPolicy);
        Assert.Equal(WriteStrategy.WriteBack, options.Strategy);
        options.Hybrid(PricesThroughViewsBack);
        options.WriteAround();
        Assert.Null(options.StrategyPolicy);
        Assert.Throws<ArgumentNullException>(() => options.Hybrid(null!));
    }
}
