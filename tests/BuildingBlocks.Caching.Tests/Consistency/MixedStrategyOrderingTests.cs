using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Consistency;

/// <summary>
/// Writes of one key with different strategies, overlapping: whatever order they take effect in, once everything is
/// flushed the cache must serve what the store holds.
/// </summary>
public sealed class MixedStrategyOrderingTests
{
    private readonly RecordingStore _store = new();
    private readonly FakeTimeProvider _time = NewClock();

    [Fact]
    public async Task WriteBackAccepted_WhileAWriteThroughOfTheKeyIsInTheStore_CacheAndStoreEndEqual()
    {
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)), time: _time);
        Gate writes = _store.HoldWrites();
        try
        {
            Task through = cache.SetAsync("k", "write-through", WriteStrategy.WriteThrough, CancellationToken.None).AsTask();
            await writes.WaitUntilEnteredAsync("the write-through is in the store");

            await cache.SetAsync("k", "write-back", WriteStrategy.WriteBack, Ct);
            writes.Release();
            await Eventually.CompletesAsync(through, "the write-through completes");
            await cache.FlushAsync(Ct);

            Assert.True(cache.TryGetLocal("k", out string cached));
            Assert.Equal(_store["k"], cached);
            Assert.Equal(_store["k"], await cache.GetOrLoadAsync("k", Ct));
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    [Fact]
    public async Task WriteBackDeleteAccepted_WhileAWriteThroughOfTheKeyIsInTheStore_CacheAndStoreEndEqual()
    {
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)), time: _time);
        Gate writes = _store.HoldWrites();
        try
        {
            Task through = cache.SetAsync("k", "write-through", WriteStrategy.WriteThrough, CancellationToken.None).AsTask();
            await writes.WaitUntilEnteredAsync("the write-through is in the store");

            await cache.RemoveAsync("k", WriteStrategy.WriteBack, Ct);
            writes.Release();
            await Eventually.CompletesAsync(through, "the write-through completes");
            await cache.FlushAsync(Ct);

            _store.Data.TryGetValue("k", out string? stored);
            Assert.Equal(stored, await cache.GetOrLoadAsync("k", Ct));
            Assert.Equal(stored is not null, cache.TryGetLocal("k", out _));
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    [Fact]
    public async Task WriteBackAcceptedAndFlushed_AfterAWriteThroughReachedTheStore_ButBeforeItFinished_CacheAndStoreEndEqual()
    {
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)), time: _time);
        Gate applied = _store.PauseNextSaveAfterApply();
        try
        {
            Task through = cache.SetAsync("k", "write-through", WriteStrategy.WriteThrough, CancellationToken.None).AsTask();
            await applied.WaitUntilEnteredAsync("the write-through is in the store, its caller not yet told");

            // A write-back write of the key is accepted and flushed meanwhile: the store now holds it.
            await cache.SetAsync("k", "write-back", WriteStrategy.WriteBack, Ct);
            await cache.FlushAsync(Ct);
            Assert.Equal("write-back", _store["k"]);

            applied.Release();
            await Eventually.CompletesAsync(through, "the write-through completes");

            Assert.True(cache.TryGetLocal("k", out string cached));
            Assert.Equal(_store["k"], cached);
            Assert.Equal(_store["k"], await cache.GetOrLoadAsync("k", Ct));
        }
        finally
        {
            applied.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    [Fact]
    public async Task WriteAroundOverlappingAWriteBack_CacheAndStoreEndEqual()
    {
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)), time: _time);
        Gate writes = _store.HoldWrites();
        try
        {
            Task around = cache.SetAsync("k", "write-around", WriteStrategy.WriteAround, CancellationToken.None).AsTask();
            await writes.WaitUntilEnteredAsync("the write-around is in the store");

            await cache.SetAsync("k", "write-back", WriteStrategy.WriteBack, Ct);
            writes.Release();
            await Eventually.CompletesAsync(around, "the write-around completes");
            await cache.FlushAsync(Ct);

            Assert.Equal(_store["k"], await cache.GetOrLoadAsync("k", Ct));
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    [Fact]
    public async Task ManyConcurrentWritersWithMixedStrategies_AndReaders_EndWithCacheEqualToStore()
    {
        await using Cache<string, string> cache = Create(_store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromMilliseconds(20)));
        string[] keys = ["a", "b", "c"];

        Task[] workers = [.. Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (int i = 0; i < 150; i++)
            {
                string key = keys[random.Next(keys.Length)];
                switch (random.Next(6))
                {
                    case 0:
                        await cache.SetAsync(key, $"through {worker}.{i}", WriteStrategy.WriteThrough, CancellationToken.None);
                        break;
                    case 1:
                        await cache.SetAsync(key, $"around {worker}.{i}", WriteStrategy.WriteAround, CancellationToken.None);
                        break;
                    case 2:
                        await cache.SetAsync(key, $"back {worker}.{i}", WriteStrategy.WriteBack, CancellationToken.None);
                        break;
                    case 3:
                        await cache.RemoveAsync(key, random.Next(2) == 0 ? WriteStrategy.WriteBack : WriteStrategy.WriteThrough, CancellationToken.None);
                        break;
                    default:
                        await cache.GetOrLoadAsync(key, CancellationToken.None);
                        break;
                }
            }
        }))];
        await Eventually.CompletesAsync(Task.WhenAll(workers), "the workers finish");
        await cache.FlushAsync(Ct);

        foreach (string key in keys)
        {
            _store.Data.TryGetValue(key, out string? stored);
            bool cached = cache.TryGetLocal(key, out string local);
            Assert.True(!cached || local == stored, $"key {key}: the cache serves '{local}', the store holds '{stored}'");
            Assert.Equal(stored, await cache.GetOrLoadAsync(key, Ct));
        }
    }
}
