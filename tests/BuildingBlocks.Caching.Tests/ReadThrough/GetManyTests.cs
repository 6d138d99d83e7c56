using BuildingBlocks.Caching.Tests.Support;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.ReadThrough;

public sealed class GetManyTests
{
    private readonly RecordingStore _store = new();

    [Fact]
    public async Task GetMany_AnswersHitsFromL1_AndLoadsTheRestInOneCall_LeavingMissingKeysOut()
    {
        _store["a"] = "A";
        _store["b"] = "B";
        _store["c"] = "C";
        await using Cache<string, string> cache = Create(_store);
        await cache.GetOrLoadAsync("a", Ct);

        IReadOnlyDictionary<string, string> result = await cache.GetManyAsync(["a", "b", "c", "missing"], Ct);

        Assert.Equal(new Dictionary<string, string> { ["a"] = "A", ["b"] = "B", ["c"] = "C" }, result);
        StoreCall<string, string> many = Assert.Single(_store.Calls, c => c.Kind == StoreCallKind.LoadMany);
        Assert.Equal(["b", "c", "missing"], many.Keys.Order());
        Assert.Equal(1, _store.Loads);

        // What was loaded is cached; what was missing is not.
        Assert.True(cache.TryGetLocal("b", out _));
        Assert.True(cache.TryGetLocal("c", out _));
        Assert.False(cache.TryGetLocal("missing", out _));
        Assert.Equal(2, cache.GetStatistics().StoreLoads);
    }

    [Fact]
    public async Task GetMany_DuplicateKeys_AreLoadedOnce_AndAnsweredOnce()
    {
        _store["a"] = "A";
        _store["b"] = "B";
        await using Cache<string, string> cache = Create(_store);

        IReadOnlyDictionary<string, string> result = await cache.GetManyAsync(["b", "a", "b", "a", "b", "zz", "zz"], Ct);

        Assert.Equal(2, result.Count);
        Assert.Equal("A", result["a"]);
        Assert.Equal("B", result["b"]);
        StoreCall<string, string> many = Assert.Single(_store.Calls);
        Assert.Equal(StoreCallKind.LoadMany, many.Kind);
        Assert.Equal(["a", "b", "zz"], many.Keys.Order());
    }

    [Fact]
    public async Task GetMany_AllHits_DoesNotCallTheStore()
    {
        _store["a"] = "A";
        _store["b"] = "B";
        await using Cache<string, string> cache = Create(_store);
        await cache.GetManyAsync(["a", "b"], Ct);
        int calls = _store.Calls.Count;

        IReadOnlyDictionary<string, string> again = await cache.GetManyAsync(["a", "b", "a"], Ct);

        Assert.Equal(2, again.Count);
        Assert.Equal(calls, _store.Calls.Count);
    }

    [Fact]
    public async Task GetMany_EmptyInput_ReturnsEmpty_WithoutCallingTheStore()
    {
        await using Cache<string, string> cache = Create(_store);
        Assert.Empty(await cache.GetManyAsync([], Ct));
        Assert.Empty(_store.Calls);
    }

    [Fact]
    public async Task GetMany_JoinsASingleKeyLoadAlreadyInFlight_InsteadOfLoadingTheKeyAgain()
    {
        _store["a"] = "A";
        _store["b"] = "B";
        await using Cache<string, string> cache = Create(_store);
        Gate aRead = _store.PauseNextLoadAfterRead("a");
        Task<string?> single = cache.GetOrLoadAsync("a", CancellationToken.None).AsTask();
        await aRead.WaitUntilEnteredAsync();

        Task<IReadOnlyDictionary<string, string>> many = cache.GetManyAsync(["a", "b"], CancellationToken.None).AsTask();
        await Eventually.TrueAsync(() => _store.LoadManyCalls == 1, "the multi-key load of b runs");
        Assert.False(many.IsCompleted);
        aRead.Release();

        IReadOnlyDictionary<string, string> result = await Eventually.CompletesAsync(many, "GetMany completes");
        Assert.Equal("A", await single);
        Assert.Equal("A", result["a"]);
        Assert.Equal("B", result["b"]);
        Assert.Equal(["b"], _store.Calls.Single(c => c.Kind == StoreCallKind.LoadMany).Keys);
    }

    [Fact]
    public async Task GetMany_StoreFailure_ReachesTheCaller_AndCachesNothing()
    {
        _store["a"] = "A";
        _store["b"] = "B";
        _store.FailLoadsOf("b");
        await using Cache<string, string> cache = Create(_store);

        CacheStoreException error = await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.GetManyAsync(["a", "b"], Ct));

        Assert.Contains("2 keys", error.Message, StringComparison.Ordinal);
        Assert.False(cache.TryGetLocal("a", out _));
        Assert.False(cache.TryGetLocal("b", out _));

        // Nothing is left behind: the next read of either key loads again.
        _store.HealLoadsOf("b");
        Assert.Equal(2, (await cache.GetManyAsync(["a", "b"], Ct)).Count);
    }

    [Fact]
    public async Task GetMany_SeesPendingWriteBackWrites_AndDeletes_WithoutLoading()
    {
        _store["gone"] = "old";
        await using Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)), time: NewClock());
        await cache.SetAsync("new", "fresh", Ct);
        await cache.RemoveAsync("gone", WriteStrategy.WriteBack, Ct);

        IReadOnlyDictionary<string, string> result = await cache.GetManyAsync(["new", "gone"], Ct);

        Assert.Equal(new Dictionary<string, string> { ["new"] = "fresh" }, result);
        Assert.Empty(_store.Calls);
    }
}
