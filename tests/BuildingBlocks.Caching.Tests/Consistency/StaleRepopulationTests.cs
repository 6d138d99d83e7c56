using BuildingBlocks.Caching.Tests.Support;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Consistency;

/// <summary>
/// The stale-repopulation race, pinned with gates: a read-through load reads the old value from the store and is
/// paused; a write of the same key completes; the load is released. A naive cache puts the old value back and serves
/// it until it expires; <see cref="Cache{TKey,TValue}"/> must not.
/// </summary>
public sealed class StaleRepopulationTests
{
    private readonly RecordingStore _store = new();

    public StaleRepopulationTests()
    {
        _store["k"] = "old";
    }

    [Fact]
    public async Task NaiveReadThrough_LoadThatReadTheOldValue_PutsItBackAfterAWriteThrough()
    {
        var naive = new NaiveReadThroughCache<string, string>(_store);
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = naive.GetOrLoadAsync("k").AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        await naive.SetAsync("k", "new");
        Assert.True(naive.TryGet("k", out string beforeRelease));
        Assert.Equal("new", beforeRelease);
        read.Release();
        await load;

        // The bug: the store says "new", the cache serves "old" to every later reader.
        Assert.Equal("new", _store["k"]);
        Assert.True(naive.TryGet("k", out string served));
        Assert.Equal("old", served);
        Assert.Equal("old", await naive.GetOrLoadAsync("k"));
    }

    [Fact]
    public async Task NaiveReadThrough_LoadThatReadTheOldValue_PutsItBackAfterAnInvalidation()
    {
        var naive = new NaiveReadThroughCache<string, string>(_store);
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = naive.GetOrLoadAsync("k").AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        await naive.SetAroundAsync("k", "new");
        read.Release();
        await load;

        Assert.Equal("old", await naive.GetOrLoadAsync("k"));
    }

    [Fact]
    public async Task LoadRacingAWriteThrough_DoesNotPutTheOldValueBack()
    {
        await using Cache<string, string> cache = Create(_store);
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = cache.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        await cache.SetAsync("k", "new", WriteStrategy.WriteThrough, Ct);
        read.Release();

        // The load's own caller asked before the write finished: the old value is a fair answer for it.
        Assert.Equal("old", await Eventually.CompletesAsync(load, "the paused load completes"));
        Assert.True(cache.TryGetLocal("k", out string local));
        Assert.Equal("new", local);
        Assert.Equal("new", await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, _store.Loads);
    }

    [Fact]
    public async Task LoadRacingAWriteAround_DoesNotCacheTheOldValue_AndTheNextReadLoadsTheNewOne()
    {
        await using Cache<string, string> cache = Create(_store);
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = cache.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        await cache.SetAsync("k", "new", WriteStrategy.WriteAround, Ct);
        read.Release();
        await Eventually.CompletesAsync(load, "the paused load completes");

        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal("new", await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(2, _store.Loads);
    }

    [Fact]
    public async Task LoadRacingAnInvalidation_DoesNotCacheTheOldValue()
    {
        await using Cache<string, string> cache = Create(_store);
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = cache.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        // The database changed behind the cache's back, and the app says so.
        _store["k"] = "new";
        await cache.InvalidateAsync("k", Ct);
        read.Release();
        await Eventually.CompletesAsync(load, "the paused load completes");

        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal("new", await cache.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task LoadRacingAWriteBack_DoesNotOverwriteTheWrite_BeforeOrAfterTheFlush()
    {
        await using Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)), time: NewClock());
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = cache.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        await cache.SetAsync("k", "new", Ct);
        read.Release();
        await Eventually.CompletesAsync(load, "the paused load completes");

        Assert.True(cache.TryGetLocal("k", out string beforeFlush));
        Assert.Equal("new", beforeFlush);
        await cache.FlushAsync(Ct);
        Assert.Equal("new", _store["k"]);
        Assert.True(cache.TryGetLocal("k", out string afterFlush));
        Assert.Equal("new", afterFlush);
        Assert.Equal("new", await cache.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task LoadRacingAWriteBackDelete_DoesNotBringTheDeletedValueBack()
    {
        await using Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)), time: NewClock());
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = cache.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        await cache.RemoveAsync("k", Ct);
        read.Release();
        await Eventually.CompletesAsync(load, "the paused load completes");

        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Null(await cache.GetOrLoadAsync("k", Ct));
        await cache.FlushAsync(Ct);
        Assert.False(_store.Data.ContainsKey("k"));
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Null(await cache.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task LoadRacingAWriteThrough_WithL2_LeavesNoOldValueInL2ForOtherNodes()
    {
        var l2 = NewL2();
        await using Cache<string, string> node = Create(_store, l2: l2);
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = node.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the load has read the old value");

        await node.SetAsync("k", "new", WriteStrategy.WriteThrough, Ct);
        read.Release();
        await Eventually.CompletesAsync(load, "the paused load completes");

        // A node started now reads L2 (or the store) and must see the new value.
        await using Cache<string, string> other = Create(_store, l2: l2);
        Assert.Equal("new", await other.GetOrLoadAsync("k", Ct));
        Assert.True(node.TryGetLocal("k", out string local));
        Assert.Equal("new", local);
    }

    [Fact]
    public async Task GetManyLoadRacingAWriteThrough_DoesNotPutTheOldValueBack()
    {
        _store["other"] = "o";
        await using Cache<string, string> cache = Create(_store);
        Gate read = _store.PauseNextLoadManyAfterRead();
        Task<IReadOnlyDictionary<string, string>> many = cache.GetManyAsync(["k", "other"], CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the multi-key load has read the old value");

        await cache.SetAsync("k", "new", WriteStrategy.WriteThrough, Ct);
        read.Release();
        IReadOnlyDictionary<string, string> result = await Eventually.CompletesAsync(many, "the multi-key load completes");

        Assert.Equal("old", result["k"]);
        Assert.True(cache.TryGetLocal("k", out string local));
        Assert.Equal("new", local);
        Assert.True(cache.TryGetLocal("other", out string other));
        Assert.Equal("o", other);
    }

    [Fact]
    public async Task GetManyLoadRacingAWriteAround_DoesNotCacheTheOldValue()
    {
        await using Cache<string, string> cache = Create(_store);
        Gate read = _store.PauseNextLoadManyAfterRead();
        Task<IReadOnlyDictionary<string, string>> many = cache.GetManyAsync(["k"], CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("the multi-key load has read the old value");

        await cache.SetAsync("k", "new", WriteStrategy.WriteAround, Ct);
        read.Release();
        await Eventually.CompletesAsync(many, "the multi-key load completes");

        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal("new", await cache.GetOrLoadAsync("k", Ct));
    }
}
