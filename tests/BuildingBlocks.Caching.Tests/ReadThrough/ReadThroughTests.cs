using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.ReadThrough;

public sealed class ReadThroughTests
{
    private readonly RecordingStore _store = new();

    [Fact]
    public async Task GetOrLoad_LoadsOnce_ThenAnswersFromL1()
    {
        _store["a"] = "apple";
        await using Cache<string, string> cache = Create(_store);

        Assert.Equal("apple", await cache.GetOrLoadAsync("a", Ct));
        Assert.Equal("apple", await cache.GetOrLoadAsync("a", Ct));
        Assert.Equal("apple", await cache.GetOrLoadAsync("a", Ct));

        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, cache.GetStatistics().StoreLoads);
        Assert.True(cache.TryGetLocal("a", out string local));
        Assert.Equal("apple", local);
    }

    [Fact]
    public async Task GetOrLoad_KeyTheStoreDoesNotHave_ReturnsNull_AndCachesNothing()
    {
        await using Cache<string, string> cache = Create(_store);

        Assert.Null(await cache.GetOrLoadAsync("ghost", Ct));
        Assert.False(cache.TryGetLocal("ghost", out _));
        Assert.False((await cache.GetAsync("ghost", Ct)).HasValue);

        // Absence is not cached: the next read asks the store again and sees a value that appeared meanwhile.
        _store["ghost"] = "boo";
        Assert.Equal("boo", await cache.GetOrLoadAsync("ghost", Ct));
        Assert.Equal(2, _store.Loads);
    }

    [Fact]
    public async Task GetAsync_NeverCallsTheStore()
    {
        _store["a"] = "apple";
        await using Cache<string, string> cache = Create(_store);

        Assert.False((await cache.GetAsync("a", Ct)).HasValue);
        Assert.Empty(_store.Calls);

        await cache.GetOrLoadAsync("a", Ct);
        LoadResult<string> cached = await cache.GetAsync("a", Ct);
        Assert.True(cached.HasValue);
        Assert.Equal("apple", cached.Value);
        Assert.Equal(1, _store.Loads);
    }

    [Fact]
    public async Task FiftyConcurrentMisses_ForOneKey_ShareExactlyOneStoreLoad()
    {
        _store["hot"] = "value";
        await using Cache<string, string> cache = Create(_store);
        Gate loads = _store.HoldLoads();
        using var go = new ManualResetEventSlim();
        int waiting = 0;

        Task<string?>[] callers = [.. Enumerable.Range(0, 50).Select(_ => Task.Run(() =>
        {
            go.Wait(TestContext.Current.CancellationToken);
            ValueTask<string?> call = cache.GetOrLoadAsync("hot", CancellationToken.None);

            // The call returned without completing: this caller is parked on a load (the store is held).
            Assert.False(call.IsCompleted);
            Interlocked.Increment(ref waiting);
            return call.AsTask();
        }))];
        go.Set();
        await Eventually.TrueAsync(() => Volatile.Read(ref waiting) == 50, "all 50 callers wait for the load");
        await loads.WaitUntilEnteredAsync();

        loads.Release();
        string?[] results = await Eventually.CompletesAsync(Task.WhenAll(callers), "the shared load completes");

        Assert.All(results, r => Assert.Equal("value", r));
        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, loads.Waiters);
        Assert.Equal(1, cache.GetStatistics().StoreLoads);
    }

    [Fact]
    public async Task ThrowingLoad_ReachesEveryWaiterAsCacheStoreException_AndNothingIsCached()
    {
        _store["bad"] = "never served";
        _store.FailLoadsOf("bad", "disk on fire");
        await using Cache<string, string> cache = Create(_store);
        Gate loads = _store.HoldLoads();

        Task<string?>[] callers = [.. Enumerable.Range(0, 10).Select(_ => cache.GetOrLoadAsync("bad", CancellationToken.None).AsTask())];
        Assert.All(callers, c => Assert.False(c.IsCompleted));
        loads.Release();

        foreach (Task<string?> caller in callers)
        {
            CacheStoreException error = await Assert.ThrowsAsync<CacheStoreException>(() => caller);
            Assert.Contains("'items'", error.Message, StringComparison.Ordinal);
            Assert.Contains("'bad'", error.Message, StringComparison.Ordinal);
            Assert.Contains("disk on fire", error.Message, StringComparison.Ordinal);
            Assert.Contains("Nothing was cached", error.Message, StringComparison.Ordinal);
            Assert.IsType<StoreFailureException>(error.InnerException);
        }

        Assert.Equal(1, _store.Loads);
        Assert.False(cache.TryGetLocal("bad", out _));
        Assert.Equal(1, cache.GetStatistics().StoreLoadFailures);

        // The failure is not cached either: once the store heals, the next read loads.
        _store.HealLoadsOf("bad");
        Assert.Equal("never served", await cache.GetOrLoadAsync("bad", Ct));
        Assert.Equal(2, _store.Loads);
    }

    [Fact]
    public async Task HangingLoad_FailsAfterLoadTimeout_WithAMessageNamingLoadTimeout()
    {
        FakeTimeProvider time = NewClock();
        _store["slow"] = "eventually";
        Gate hang = _store.HoldLoads();
        await using Cache<string, string> cache = Create(_store, o => o.LoadTimeout = TimeSpan.FromSeconds(3), time: time);

        Task<string?> first = cache.GetOrLoadAsync("slow", CancellationToken.None).AsTask();
        Task<string?> second = cache.GetOrLoadAsync("slow", CancellationToken.None).AsTask();
        await hang.WaitUntilEnteredAsync();
        await AdvanceUntilCompletedAsync(time, Task.WhenAll(first, second).ContinueWith(_ => { }, TaskScheduler.Default), TimeSpan.FromSeconds(1), "the load times out");

        foreach (Task<string?> caller in new[] { first, second })
        {
            CacheStoreException error = await Assert.ThrowsAsync<CacheStoreException>(() => caller);
            Assert.Contains("LoadTimeout (00:00:03)", error.Message, StringComparison.Ordinal);
            Assert.IsType<TimeoutException>(error.InnerException);
        }

        Assert.False(cache.TryGetLocal("slow", out _));
        Assert.Equal(1, cache.GetStatistics().StoreLoadFailures);

        // The hung store call comes back late: its value is not cached behind the callers' backs.
        hang.Release();
        await Eventually.TrueAsync(() => _store.Loads == 1, "the late load finishes");
        Assert.False(cache.TryGetLocal("slow", out _));
    }

    [Fact]
    public async Task CancellingOneWaiter_DoesNotCancelTheSharedLoadForTheOthers()
    {
        _store["k"] = "v";
        await using Cache<string, string> cache = Create(_store);
        Gate loads = _store.HoldLoads();
        using var cancel = new CancellationTokenSource();

        Task<string?> impatient = cache.GetOrLoadAsync("k", cancel.Token).AsTask();
        Task<string?> patient = cache.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);

        loads.Release();
        Assert.Equal("v", await Eventually.CompletesAsync(patient, "the patient caller gets the value"));
        Assert.True(cache.TryGetLocal("k", out _));
        Assert.Equal(1, _store.Loads);
    }

    [Fact]
    public async Task NullKey_ThrowsArgumentNullException_Everywhere()
    {
        await using Cache<string, string> cache = Create(_store);

        Assert.Throws<ArgumentNullException>(() => cache.TryGetLocal(null!, out _));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.GetOrLoadAsync(null!, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.GetAsync(null!, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.GetManyAsync(["a", null!], Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.GetManyAsync(null!, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.SetAsync(null!, "v", Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.SetAsync(null!, "v", WriteStrategy.WriteBack, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.RemoveAsync(null!, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.InvalidateAsync(null!, Ct));
        Assert.Empty(_store.Calls);
    }

    [Theory]
    [InlineData(WriteStrategy.WriteThrough)]
    [InlineData(WriteStrategy.WriteAround)]
    [InlineData(WriteStrategy.WriteBack)]
    public async Task NullValue_ThrowsArgumentNullException_PointingAtRemove_AndWritesNothing(WriteStrategy strategy)
    {
        _store["k"] = "kept";
        await using Cache<string, string> cache = Create(_store);
        await cache.GetOrLoadAsync("k", Ct);

        ArgumentNullException error = await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.SetAsync("k", null!, strategy, Ct));

        Assert.Equal("value", error.ParamName);
        Assert.Contains("RemoveAsync", error.Message, StringComparison.Ordinal);
        Assert.Equal("kept", _store["k"]);
        Assert.True(cache.TryGetLocal("k", out string local));
        Assert.Equal("kept", local);
        Assert.Equal(0, cache.GetStatistics().PendingWrites);
    }

    [Fact]
    public async Task UnknownStrategy_IsRejected()
    {
        await using Cache<string, string> cache = Create(_store);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await cache.SetAsync("k", "v", (WriteStrategy)42, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await cache.RemoveAsync("k", (WriteStrategy)42, Ct));
        Assert.Empty(_store.Calls);
    }

    [Fact]
    public async Task ConcurrentMisses_WithL2_ShareOneL2ReadAndOneStoreLoad()
    {
        _store["hot"] = "value";
        var l2 = new FaultyDistributedCache(NewL2());
        await using Cache<string, string> cache = Create(_store, l2: l2);
        Gate loads = _store.HoldLoads();

        Task<string?>[] callers = [.. Enumerable.Range(0, 20).Select(_ => cache.GetOrLoadAsync("hot", CancellationToken.None).AsTask())];
        await loads.WaitUntilEnteredAsync();
        loads.Release();
        await Eventually.CompletesAsync(Task.WhenAll(callers), "the shared load completes");

        Assert.All(callers, c => Assert.Equal("value", c.Result));
        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, l2.Gets);
        Assert.Equal(1, l2.Sets);
    }

    [Fact]
    public async Task OverlappingGetManyCalls_LoadEachKeyOnce()
    {
        for (int i = 0; i < 10; i++)
        {
            _store[$"k{i}"] = $"v{i}";
        }

        await using Cache<string, string> cache = Create(_store);
        Gate loads = _store.HoldLoads();
        Task<IReadOnlyDictionary<string, string>> first = cache.GetManyAsync(Enumerable.Range(0, 6).Select(i => $"k{i}"), CancellationToken.None).AsTask();
        Task<IReadOnlyDictionary<string, string>> second = cache.GetManyAsync(Enumerable.Range(3, 7).Select(i => $"k{i}"), CancellationToken.None).AsTask();
        Task<string?> single = cache.GetOrLoadAsync("k4", CancellationToken.None).AsTask();
        loads.Release();

        Assert.Equal(6, (await Eventually.CompletesAsync(first, "the first GetMany completes")).Count);
        Assert.Equal(7, (await Eventually.CompletesAsync(second, "the second GetMany completes")).Count);
        Assert.Equal("v4", await single);
        Assert.Equal(10, _store.Calls.Where(c => c.Kind is StoreCallKind.LoadMany or StoreCallKind.Load).Sum(c => c.Keys.Count));
        Assert.Equal(0, _store.Loads);
    }

    [Fact]
    public async Task KeyComparer_DecidesWhichKeysAreTheSame_InL1LoadsAndWriteBack()
    {
        _store["k"] = "v";
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.KeyComparer = StringComparer.OrdinalIgnoreCase;
            o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1));
        }, time: NewClock());

        await cache.GetOrLoadAsync("k", Ct);
        Assert.Equal("v", await cache.GetOrLoadAsync("K", Ct));
        Assert.Equal(1, _store.Loads);

        await cache.SetAsync("X", "1", Ct);
        await cache.SetAsync("x", "2", Ct);
        Assert.Equal(1, cache.GetStatistics().PendingWrites);
        Assert.True(cache.TryGetLocal("X", out string latest));
        Assert.Equal("2", latest);
    }
}
