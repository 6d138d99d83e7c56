using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Expiration;

/// <summary>Expiry on a fake clock: the cache reads a non-system TimeProvider on every call.</summary>
public sealed class ExpirationTests
{
    private static readonly TimeSpan OneMs = TimeSpan.FromMilliseconds(1);
    private readonly RecordingStore _store = new();
    private readonly FakeTimeProvider _time = NewClock();

    public ExpirationTests()
    {
        _store["k"] = "v";
    }

    [Fact]
    public async Task Absolute_EntryLivesExactlyExpiration_ThenTheNextReadLoadsAgain()
    {
        await using Cache<string, string> cache = Create(_store, o => o.Expiration = TimeSpan.FromMinutes(10), time: _time);
        await cache.GetOrLoadAsync("k", Ct);

        _time.Advance(TimeSpan.FromMinutes(10) - OneMs);
        Assert.Equal("v", await cache.GetOrLoadAsync("k", Ct));
        Assert.True(cache.TryGetLocal("k", out _));
        Assert.Equal(1, _store.Loads);

        _time.Advance(OneMs);
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.False((await cache.GetAsync("k", Ct)).HasValue);
        _store["k"] = "v2";
        Assert.Equal("v2", await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(2, _store.Loads);
    }

    [Fact]
    public async Task Absolute_ReadsDoNotExtendTheEntry()
    {
        await using Cache<string, string> cache = Create(_store, o => o.Expiration = TimeSpan.FromMinutes(10), time: _time);
        await cache.GetOrLoadAsync("k", Ct);

        for (int i = 0; i < 9; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            await cache.GetOrLoadAsync("k", Ct);
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        await cache.GetOrLoadAsync("k", Ct);
        Assert.Equal(2, _store.Loads);
    }

    [Fact]
    public async Task Absolute_AppliesToWrittenValues()
    {
        await using Cache<string, string> cache = Create(_store, o => o.Expiration = TimeSpan.FromMinutes(1), time: _time);
        await cache.SetAsync("w", "written", Ct);

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.False(cache.TryGetLocal("w", out _));
        Assert.Equal("written", await cache.GetOrLoadAsync("w", Ct));
        Assert.Equal(1, _store.Loads);
    }

    [Fact]
    public async Task Sliding_ReadsExtendTheEntry_ButNeverPastTheAbsoluteExpiration()
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Expiration = TimeSpan.FromMinutes(10);
            o.SlidingExpiration = TimeSpan.FromMinutes(2);
        }, time: _time);
        await cache.GetOrLoadAsync("k", Ct);

        // Read every 90 s: each read keeps the entry for another 2 minutes.
        for (int i = 0; i < 6; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(90));
            Assert.True(cache.TryGetLocal("k", out _), $"expired after {(i + 1) * 90} s despite reads every 90 s");
        }

        Assert.Equal(1, _store.Loads);

        // 9 minutes now; last read just now. At 10 minutes the absolute expiry wins.
        _time.Advance(TimeSpan.FromMinutes(1) - OneMs);
        Assert.True(cache.TryGetLocal("k", out _));
        _time.Advance(OneMs);
        Assert.False(cache.TryGetLocal("k", out _));
        await cache.GetOrLoadAsync("k", Ct);
        Assert.Equal(2, _store.Loads);
    }

    [Fact]
    public async Task Sliding_EntryNotReadForTheWindow_Expires()
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Expiration = TimeSpan.FromMinutes(10);
            o.SlidingExpiration = TimeSpan.FromMinutes(2);
        }, time: _time);
        await cache.GetOrLoadAsync("k", Ct);

        _time.Advance(TimeSpan.FromMinutes(2) - OneMs);
        Assert.True(cache.TryGetLocal("k", out _));
        _time.Advance(TimeSpan.FromMinutes(2) - OneMs);
        Assert.True(cache.TryGetLocal("k", out _));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(cache.TryGetLocal("k", out _));
    }

    [Fact]
    public async Task Jitter_EntriesCachedTogether_ExpireAtSpreadOutTimes_WithinExpirationPlusJitter()
    {
        const int Keys = 200;
        for (int i = 0; i < Keys; i++)
        {
            _store[$"j{i}"] = "v";
        }

        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Expiration = TimeSpan.FromMinutes(10);
            o.ExpirationJitter = TimeSpan.FromMinutes(5);
            o.L1Capacity = 1000;
        }, time: _time);
        await cache.GetManyAsync(Enumerable.Range(0, Keys).Select(i => $"j{i}"), Ct);

        _time.Advance(TimeSpan.FromMinutes(10) - OneMs);
        Assert.Equal(Keys, Alive(cache, Keys));
        _time.Advance(OneMs);

        // Count survivors every 30 s through the jitter window: they must leave gradually, not all at once.
        var survivors = new List<int>();
        for (int step = 0; step < 10; step++)
        {
            _time.Advance(TimeSpan.FromSeconds(30));
            survivors.Add(Alive(cache, Keys));
        }

        Assert.Equal(0, survivors[^1]);
        Assert.True(survivors.Zip(survivors.Skip(1)).All(p => p.First >= p.Second), $"survivors grew: {string.Join(", ", survivors)}");
        int bucketsWithExpiries = new[] { Keys }.Concat(survivors).Zip(survivors).Count(p => p.First > p.Second);
        Assert.True(bucketsWithExpiries >= 5, $"Entries expired in only {bucketsWithExpiries} of 10 half-minute windows: {string.Join(", ", survivors)}");
    }

    [Fact]
    public async Task DefaultJitter_IsATenthOfExpiration()
    {
        const int Keys = 200;
        for (int i = 0; i < Keys; i++)
        {
            _store[$"j{i}"] = "v";
        }

        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Expiration = TimeSpan.FromMinutes(10);
            o.ExpirationJitter = null;
            o.L1Capacity = 1000;
        }, time: _time);
        await cache.GetManyAsync(Enumerable.Range(0, Keys).Select(i => $"j{i}"), Ct);

        _time.Advance(TimeSpan.FromMinutes(10) - OneMs);
        Assert.Equal(Keys, Alive(cache, Keys));
        _time.Advance(TimeSpan.FromSeconds(30));
        int halfWay = Alive(cache, Keys);
        Assert.InRange(halfWay, 1, Keys - 1);
        _time.Advance(TimeSpan.FromSeconds(30) + OneMs);
        Assert.Equal(0, Alive(cache, Keys));
    }

    [Fact]
    public async Task ZeroJitter_EntriesCachedTogether_ExpireTogether()
    {
        const int Keys = 50;
        for (int i = 0; i < Keys; i++)
        {
            _store[$"j{i}"] = "v";
        }

        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Expiration = TimeSpan.FromMinutes(10);
            o.ExpirationJitter = TimeSpan.Zero;
        }, time: _time);
        await cache.GetManyAsync(Enumerable.Range(0, Keys).Select(i => $"j{i}"), Ct);

        _time.Advance(TimeSpan.FromMinutes(10) - OneMs);
        Assert.Equal(Keys, Alive(cache, Keys));
        _time.Advance(OneMs);
        Assert.Equal(0, Alive(cache, Keys));
    }

    [Fact]
    public async Task L2Entries_LiveForDistributedExpiration_OrExpiration()
    {
        var l2 = new FaultyDistributedCache(NewL2());
        await using Cache<string, string> defaults = Create(_store, o => o.Expiration = TimeSpan.FromMinutes(7), l2: l2, time: _time);
        await defaults.GetOrLoadAsync("k", Ct);
        Assert.Equal(TimeSpan.FromMinutes(7), l2.LastSetOptions?.AbsoluteExpirationRelativeToNow);

        await using Cache<string, string> own = Create(_store, o =>
        {
            o.Name = "own";
            o.DistributedExpiration = TimeSpan.FromHours(1);
        }, l2: l2, time: _time);
        await own.GetOrLoadAsync("k", Ct);
        DistributedCacheEntryOptions? options = l2.LastSetOptions;
        Assert.Equal(TimeSpan.FromHours(1), options?.AbsoluteExpirationRelativeToNow);
        Assert.Null(options?.SlidingExpiration);
    }

    private static int Alive(Cache<string, string> cache, int keys) =>
        Enumerable.Range(0, keys).Count(i => cache.TryGetLocal($"j{i}", out _));
}
