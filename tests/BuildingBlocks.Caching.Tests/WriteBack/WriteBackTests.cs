using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteBack;

/// <summary>Write-back on a fake clock: nothing reaches the store until FlushInterval passes or a flush is asked for.</summary>
public sealed class WriteBackTests
{
    private readonly RecordingStore _store = new();
    private readonly FakeTimeProvider _time = NewClock();

    private Cache<string, string> CreateWriteBack(Action<WriteBackOptions>? configure = null, Action<CacheOptions<string, string>>? options = null) =>
        Create(_store, o =>
        {
            o.WriteBack(configure);
            options?.Invoke(o);
        }, time: _time);

    [Fact]
    public async Task Set_ReturnsBeforeTheStoreIsWritten_AndFlushWritesIt()
    {
        await using Cache<string, string> cache = CreateWriteBack();

        await cache.SetAsync("k", "v", Ct);

        Assert.Empty(_store.Calls);
        CacheStatistics waiting = cache.GetStatistics();
        Assert.Equal(1, waiting.PendingWrites);
        Assert.Equal(0, waiting.StoreWrites);
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(TimeSpan.FromMilliseconds(400), cache.GetStatistics().WriteBackLag);

        await cache.FlushAsync(Ct);

        Assert.Equal("v", _store["k"]);
        CacheStatistics flushed = cache.GetStatistics();
        Assert.Equal(0, flushed.PendingWrites);
        Assert.Equal(1, flushed.StoreWrites);
        Assert.Equal(TimeSpan.Zero, flushed.WriteBackLag);
    }

    [Fact]
    public async Task Set_ReachesTheStoreByItself_OnceFlushIntervalHasPassed()
    {
        await using Cache<string, string> cache = CreateWriteBack(w => w.FlushInterval = TimeSpan.FromSeconds(5));

        await cache.SetAsync("k", "v", Ct);
        _time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(20, Ct);
        Assert.Empty(_store.Calls);

        await AdvanceUntilAsync(_time, () => _store.Data.ContainsKey("k"), TimeSpan.FromSeconds(1), "the flusher writes the key");
        Assert.Equal("v", _store["k"]);
        await Eventually.TrueAsync(() => cache.GetStatistics().PendingWrites == 0, "the write leaves the buffer");
    }

    [Fact]
    public async Task ReadYourWrites_HoldsAfterL1EvictedTheWrites()
    {
        await using Cache<string, string> cache = CreateWriteBack(options: o => o.L1Capacity = 3);

        for (int i = 0; i < 20; i++)
        {
            await cache.SetAsync($"k{i}", $"v{i}", Ct);
        }

        cache.DoL1Maintenance();
        Assert.True(cache.GetStatistics().L1Count <= 3, $"L1 holds {cache.GetStatistics().L1Count} entries");
        for (int i = 0; i < 20; i++)
        {
            Assert.True(cache.TryGetLocal($"k{i}", out string local));
            Assert.Equal($"v{i}", local);
            LoadResult<string> got = await cache.GetAsync($"k{i}", Ct);
            Assert.True(got.HasValue);
            Assert.Equal($"v{i}", got.Value);
            Assert.Equal($"v{i}", await cache.GetOrLoadAsync($"k{i}", Ct));
        }

        Assert.Empty(_store.Calls);
    }

    [Fact]
    public async Task ThousandWritesToTenKeys_ReachTheStoreAsTenWrites_AndTheRestAreCountedAsCoalesced()
    {
        await using Cache<string, string> cache = CreateWriteBack();

        for (int i = 0; i < 1000; i++)
        {
            await cache.SetAsync($"k{i % 10}", $"v{i}", Ct);
        }

        Assert.Equal(10, cache.GetStatistics().PendingWrites);
        await cache.FlushAsync(Ct);

        Assert.Equal(10, _store.KeysWritten);
        for (int k = 0; k < 10; k++)
        {
            Assert.Equal($"v{990 + k}", _store[$"k{k}"]);
        }

        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(990, stats.CoalescedWrites);
        Assert.Equal(10, stats.StoreWrites);
        Assert.Equal(0, stats.PendingWrites);
    }

    [Fact]
    public async Task ConcurrentWritesToFewKeys_OnTheRealClock_StillCoalesce_AndTheStoreEndsWithTheCachedValues()
    {
        await using Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromMilliseconds(50)));

        Task[] writers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 250; i++)
            {
                await cache.SetAsync($"k{i % 10}", $"writer {w} write {i}", CancellationToken.None);
            }
        }))];
        await Eventually.CompletesAsync(Task.WhenAll(writers), "the writers finish");
        await cache.FlushAsync(Ct);

        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(1000, stats.StoreWrites + stats.CoalescedWrites);
        Assert.True(stats.StoreWrites < 1000, $"{stats.StoreWrites} store writes for 1000 writes to 10 keys");
        Assert.Equal(stats.StoreWrites, _store.KeysWritten);
        for (int k = 0; k < 10; k++)
        {
            Assert.True(cache.TryGetLocal($"k{k}", out string cached));
            Assert.Equal(_store[$"k{k}"], cached);
        }
    }

    [Fact]
    public async Task Flush_WritesBatchesOfAtMostMaxBatchSize()
    {
        await using Cache<string, string> cache = CreateWriteBack(w => w.MaxBatchSize = 7);

        for (int i = 0; i < 50; i++)
        {
            await cache.SetAsync($"k{i}", $"v{i}", Ct);
        }

        await cache.FlushAsync(Ct);

        IReadOnlyList<StoreCall<string, string>> saves = _store.Saves;
        Assert.All(saves, s => Assert.InRange(s.Keys.Count, 1, 7));
        Assert.True(saves.Count >= 8, $"{saves.Count} batches for 50 keys");
        Assert.Equal(50, saves.Sum(s => s.Keys.Count));
        Assert.Equal(50, saves.SelectMany(s => s.Keys).Distinct().Count());
    }

    [Fact]
    public async Task WriteDuringAFlushInFlight_IsNotLost_AndReachesTheStoreNext()
    {
        Cache<string, string> cache = CreateWriteBack();
        Gate writes = _store.HoldWrites();
        try
        {
            await cache.SetAsync("k", "first", Ct);
            Task flush = cache.FlushAsync(CancellationToken.None).AsTask();
            await writes.WaitUntilEnteredAsync("the flush is writing 'first'");

            await cache.SetAsync("k", "second", Ct);
            writes.Release();
            await Eventually.CompletesAsync(flush, "the first flush completes");
            await cache.FlushAsync(Ct);

            Assert.Equal(["first", "second"], _store.SavedValuesOf("k"));
            Assert.Equal("second", _store["k"]);
            Assert.True(cache.TryGetLocal("k", out string cached));
            Assert.Equal("second", cached);
            CacheStatistics stats = cache.GetStatistics();
            Assert.Equal(0, stats.PendingWrites);
            Assert.Equal(2, stats.StoreWrites);

            // Replacing a write already on its way to the store saved no store write: not counted as coalesced.
            Assert.Equal(0, stats.CoalescedWrites);
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    [Fact]
    public async Task Remove_WriteBack_ReadsSeeNotFoundAtOnce_AndTheDeleteReachesTheStore()
    {
        _store["k"] = "v";
        await using Cache<string, string> cache = CreateWriteBack();
        await cache.GetOrLoadAsync("k", Ct);

        await cache.RemoveAsync("k", Ct);

        Assert.Equal("v", _store["k"]);
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.False((await cache.GetAsync("k", Ct)).HasValue);
        Assert.Null(await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, _store.Loads);
        Assert.Empty(await cache.GetManyAsync(["k"], Ct));

        await cache.FlushAsync(Ct);

        Assert.False(_store.Data.ContainsKey("k"));
        StoreCall<string, string> delete = Assert.Single(_store.Calls, c => c.Kind == StoreCallKind.Delete);
        Assert.Equal(["k"], delete.Keys);
        Assert.Null(await cache.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task SetAfterRemove_WriteBack_CoalescesIntoASave()
    {
        _store["k"] = "v";
        await using Cache<string, string> cache = CreateWriteBack();

        await cache.RemoveAsync("k", Ct);
        await cache.SetAsync("k", "back", Ct);
        await cache.FlushAsync(Ct);

        Assert.Equal("back", _store["k"]);
        Assert.DoesNotContain(_store.Calls, c => c.Kind == StoreCallKind.Delete);
        Assert.Equal(1, cache.GetStatistics().CoalescedWrites);
    }

    [Fact]
    public async Task WriteThroughAfterAPendingWriteBack_OfTheSameKey_LeavesTheStoreWithTheWriteThroughValue()
    {
        await using Cache<string, string> cache = CreateWriteBack();

        await cache.SetAsync("k", "write-back", WriteStrategy.WriteBack, Ct);
        await cache.SetAsync("k", "write-through", WriteStrategy.WriteThrough, Ct);
        await cache.FlushAsync(Ct);
        _time.Advance(TimeSpan.FromMinutes(1));
        await cache.FlushAsync(Ct);

        Assert.Equal("write-through", _store["k"]);
        Assert.Equal(["write-back", "write-through"], _store.SavedValuesOf("k"));
        Assert.True(cache.TryGetLocal("k", out string cached));
        Assert.Equal("write-through", cached);
        Assert.Equal(0, cache.GetStatistics().PendingWrites);
    }

    [Fact]
    public async Task WriteAroundAfterAPendingWriteBackDelete_OfTheSameKey_LeavesTheStoreWithTheWriteAroundValue()
    {
        _store["k"] = "v0";
        await using Cache<string, string> cache = CreateWriteBack();

        await cache.RemoveAsync("k", WriteStrategy.WriteBack, Ct);
        await cache.SetAsync("k", "around", WriteStrategy.WriteAround, Ct);
        await cache.FlushAsync(Ct);

        Assert.Equal("around", _store["k"]);
        Assert.Equal("around", await cache.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task Stop_FlushesEveryPendingWrite_AndLaterWriteBackWritesAreRefused()
    {
        Cache<string, string> cache = CreateWriteBack(w => w.FlushInterval = TimeSpan.FromHours(1));
        for (int i = 0; i < 5; i++)
        {
            await cache.SetAsync($"k{i}", $"v{i}", Ct);
        }

        await cache.RemoveAsync("gone", Ct);
        await cache.StopAsync(Ct);

        Assert.Equal(5, _store.Data.Count);
        Assert.Contains(_store.Calls, c => c.Kind == StoreCallKind.Delete && c.Keys.Contains("gone"));
        Assert.Equal(0, cache.GetStatistics().PendingWrites);

        // A write accepted now would never be flushed: it must fail loudly, not vanish.
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await cache.SetAsync("late", "x", Ct));
        Assert.False(_store.Data.ContainsKey("late"));
        await cache.DisposeAsync();
    }

    [Fact]
    public async Task Dispose_FlushesPendingWrites()
    {
        Cache<string, string> cache = CreateWriteBack(w => w.FlushInterval = TimeSpan.FromHours(1));
        await cache.SetAsync("k", "v", Ct);

        await cache.DisposeAsync();

        Assert.Equal("v", _store["k"]);
    }

    [Fact]
    public async Task Flush_WithNothingPending_ReturnsAtOnce()
    {
        await using Cache<string, string> cache = CreateWriteBack();
        await cache.FlushAsync(Ct);
        Assert.Empty(_store.Calls);
    }

    [Fact]
    public async Task WriteBack_RemovesTheKeyFromL2AfterTheFlush_SoOtherNodesLoadTheNewValue()
    {
        _store["k"] = "old";
        var l2 = NewL2();
        await using Cache<string, string> writer = Create(_store, o => o.WriteBack(), l2: l2, time: _time);
        await writer.GetOrLoadAsync("k", Ct);
        Assert.NotNull(await l2.GetAsync(L2Key("k"), Ct));

        await writer.SetAsync("k", "new", Ct);
        await writer.FlushAsync(Ct);

        Assert.Null(await l2.GetAsync(L2Key("k"), Ct));
        await using Cache<string, string> reader = Create(_store, l2: l2, time: _time);
        Assert.Equal("new", await reader.GetOrLoadAsync("k", Ct));
    }
}
