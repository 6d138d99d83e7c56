using BuildingBlocks.Caching.Tests.Support;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteAround;

public sealed class WriteAroundTests
{
    private readonly RecordingStore _store = new();

    [Fact]
    public async Task Set_WritesTheStore_InvalidatesTheKey_AndTheNextReadLoads()
    {
        _store["k"] = "old";
        await using Cache<string, string> cache = Create(_store, o => o.WriteAround());
        await cache.GetOrLoadAsync("k", Ct);

        await cache.SetAsync("k", "new", Ct);

        Assert.Equal("new", _store["k"]);
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal(1, _store.Loads);
        Assert.Equal("new", await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(2, _store.Loads);
        Assert.Equal(1, cache.GetStatistics().StoreWrites);
    }

    [Fact]
    public async Task Set_RemovesTheKeyFromL2()
    {
        _store["k"] = "old";
        var l2 = NewL2();
        await using Cache<string, string> cache = Create(_store, o => o.WriteAround(), l2: l2);
        await cache.GetOrLoadAsync("k", Ct);
        Assert.NotNull(await l2.GetAsync(L2Key("k"), Ct));

        await cache.SetAsync("k", "new", Ct);

        Assert.Null(await l2.GetAsync(L2Key("k"), Ct));
        await using Cache<string, string> other = Create(_store, l2: l2);
        Assert.Equal("new", await other.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task StoreFailure_ThrowsCacheStoreException_AndDropsTheCachedValue()
    {
        _store["k"] = "old";
        await using Cache<string, string> cache = Create(_store, o => o.WriteAround());
        await cache.GetOrLoadAsync("k", Ct);
        _store.RejectWritesOf("k", "check constraint");

        CacheStoreException error = await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.SetAsync("k", "new", Ct));

        Assert.Contains("write_around write of 'k' failed", error.Message, StringComparison.Ordinal);
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal("old", await cache.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task PerCallStrategy_OverridesTheOptions()
    {
        await using Cache<string, string> cache = Create(_store, o => o.WriteThrough());

        await cache.SetAsync("around", "1", WriteStrategy.WriteAround, Ct);
        await cache.SetAsync("through", "2", Ct);

        Assert.False(cache.TryGetLocal("around", out _));
        Assert.True(cache.TryGetLocal("through", out _));
        Assert.Equal("1", _store["around"]);
        Assert.Equal("2", _store["through"]);
    }
}
