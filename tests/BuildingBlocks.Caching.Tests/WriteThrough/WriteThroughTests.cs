using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteThrough;

public sealed class WriteThroughTests
{
    private readonly RecordingStore _store = new();

    [Fact]
    public async Task Set_WritesTheStoreFirst_ThenTheCache()
    {
        _store["k"] = "old";
        await using Cache<string, string> cache = Create(_store, o => o.WriteThrough());
        await cache.GetOrLoadAsync("k", Ct);
        bool cachedDuringStoreWrite = true;
        string? seenDuringStoreWrite = null;
        _store.OnSave = _ => cachedDuringStoreWrite = cache.TryGetLocal("k", out seenDuringStoreWrite!);

        await cache.SetAsync("k", "new", Ct);

        // While the store was being written the cache served neither the old value nor the unconfirmed new one.
        Assert.False(cachedDuringStoreWrite, $"L1 held '{seenDuringStoreWrite}' while the store was being written");
        Assert.Equal("new", _store["k"]);
        Assert.True(cache.TryGetLocal("k", out string local));
        Assert.Equal("new", local);
        Assert.Equal(1, _store.Loads);
        Assert.Equal(["new"], _store.SavedValuesOf("k"));
        Assert.Equal(1, cache.GetStatistics().StoreWrites);
        Assert.Equal(0, cache.GetStatistics().PendingWrites);
    }

    [Fact]
    public async Task Set_ThenRead_IsAnL1HitWithoutALoad()
    {
        await using Cache<string, string> cache = Create(_store);

        await cache.SetAsync("k", "v", Ct);

        Assert.Equal("v", await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(0, _store.Loads);
    }

    [Fact]
    public async Task StoreFailure_ThrowsCacheStoreException_AndTheCacheKeepsNeitherTheNewNorTheOldValue()
    {
        _store["k"] = "old";
        await using Cache<string, string> cache = Create(_store);
        await cache.GetOrLoadAsync("k", Ct);
        _store.RejectWritesOf("k", "unique constraint");

        CacheStoreException error = await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.SetAsync("k", "new", Ct));

        Assert.Contains("'items'", error.Message, StringComparison.Ordinal);
        Assert.Contains("write_through write of 'k' failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("unique constraint", error.Message, StringComparison.Ordinal);
        Assert.IsType<StoreFailureException>(error.InnerException);
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.False((await cache.GetAsync("k", Ct)).HasValue);

        // The next read asks the store, which still has the old value.
        Assert.Equal("old", await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(2, _store.Loads);
        Assert.Equal(0, cache.GetStatistics().StoreWrites);
    }

    [Fact]
    public async Task StoreFailure_RemovesTheKeyFromL2Too()
    {
        _store["k"] = "old";
        var l2 = NewL2();
        await using Cache<string, string> cache = Create(_store, l2: l2);
        await cache.GetOrLoadAsync("k", Ct);
        Assert.NotNull(await l2.GetAsync(L2Key("k"), Ct));
        _store.RejectWritesOf("k");

        await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.SetAsync("k", "new", Ct));

        Assert.Null(await l2.GetAsync(L2Key("k"), Ct));
    }

    [Fact]
    public async Task HangingStore_FailsAfterStoreWriteTimeout_NamingIt_AndCachesNothing()
    {
        FakeTimeProvider time = NewClock();
        _store["k"] = "old";
        await using Cache<string, string> cache = Create(_store, o => o.StoreWriteTimeout = TimeSpan.FromSeconds(2), time: time);
        await cache.GetOrLoadAsync("k", Ct);
        Gate writes = _store.HoldWrites();

        Task write = cache.SetAsync("k", "new", CancellationToken.None).AsTask();
        await writes.WaitUntilEnteredAsync();
        await AdvanceUntilCompletedAsync(time, write, TimeSpan.FromSeconds(1), "the write times out");

        CacheStoreException error = await Assert.ThrowsAsync<CacheStoreException>(() => write);
        Assert.Contains("StoreWriteTimeout (00:00:02)", error.Message, StringComparison.Ordinal);
        Assert.False(cache.TryGetLocal("k", out _));
        writes.Release();
    }

    [Fact]
    public async Task ConcurrentWritesToOneKey_LeaveTheCacheEqualToTheStore()
    {
        await using Cache<string, string> cache = Create(_store);
        for (int round = 0; round < 20; round++)
        {
            Task[] writers = [.. Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                await Task.Yield();
                await cache.SetAsync("k", $"round {round} writer {i}", CancellationToken.None);
            }))];
            await Eventually.CompletesAsync(Task.WhenAll(writers), "the writers finish");

            Assert.True(cache.TryGetLocal("k", out string cached));
            Assert.Equal(_store["k"], cached);
        }

        Assert.Equal(320, _store.Saves.Count);
    }

    [Fact]
    public async Task ConcurrentWritesAndReadsOfOneKey_EndWithTheCacheEqualToTheStore()
    {
        _store["k"] = "initial";
        await using Cache<string, string> cache = Create(_store);
        for (int round = 0; round < 20; round++)
        {
            await cache.InvalidateAsync("k", Ct);
            Task[] work = [.. Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                await Task.Yield();
                if (i % 2 == 0)
                {
                    await cache.SetAsync("k", $"round {round} writer {i}", i % 4 == 0 ? WriteStrategy.WriteThrough : WriteStrategy.WriteAround, CancellationToken.None);
                }
                else
                {
                    await cache.GetOrLoadAsync("k", CancellationToken.None);
                }
            }))];
            await Eventually.CompletesAsync(Task.WhenAll(work), "the writers and readers finish");

            Assert.Equal(_store["k"], await cache.GetOrLoadAsync("k", Ct));
        }
    }

    [Fact]
    public async Task Remove_DeletesFromTheStore_AndTheNextReadFindsNothing()
    {
        _store["k"] = "v";
        await using Cache<string, string> cache = Create(_store);
        await cache.GetOrLoadAsync("k", Ct);

        await cache.RemoveAsync("k", Ct);

        Assert.False(_store.Data.ContainsKey("k"));
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Null(await cache.GetOrLoadAsync("k", Ct));
        Assert.Single(_store.Calls, c => c.Kind == StoreCallKind.Delete);
    }

    [Fact]
    public async Task RemoveFailure_ThrowsCacheStoreException_AndDropsTheKey()
    {
        _store["k"] = "v";
        await using Cache<string, string> cache = Create(_store);
        await cache.GetOrLoadAsync("k", Ct);
        _store.RejectWritesOf("k", "foreign key");

        CacheStoreException error = await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.RemoveAsync("k", Ct));

        Assert.Contains("delete of 'k' failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("foreign key", error.Message, StringComparison.Ordinal);
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal("v", _store["k"]);
    }

    [Fact]
    public async Task WriteThrough_ClearsL2_SoAnotherNodeLoadsTheNewValueOnce_AndThenReadsL2()
    {
        // Writes only clear L2 (two nodes' sets could land out of order); the first load puts the value back.
        var l2 = NewL2();
        await using Cache<string, string> a = Create(_store, l2: l2);
        await using Cache<string, string> b = Create(_store, l2: l2);
        await using Cache<string, string> c = Create(_store, l2: l2);

        await a.SetAsync("k", "from a", Ct);

        Assert.Equal("from a", await b.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, _store.Loads);
        Assert.Equal("from a", await c.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, c.GetStatistics().L2Hits);
    }
}
