using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteBack;

/// <summary>
/// A full write-back buffer (4 keys; the store holds every write at a gate, so the flusher cannot make room until
/// the test releases it).
/// </summary>
public sealed class BackpressureTests
{
    private readonly RecordingStore _store = new();
    private readonly FakeTimeProvider _time = NewClock();

    private async Task<(Cache<string, string> Cache, Gate Writes)> FullBufferAsync(BackpressureMode whenFull)
    {
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w =>
        {
            w.BufferCapacity = 4;
            w.MaxBatchSize = 2;
            w.WhenFull = whenFull;
        }), time: _time);
        Gate writes = _store.HoldWrites();
        for (int i = 1; i <= 4; i++)
        {
            await cache.SetAsync($"k{i}", $"v{i}", Ct);
        }

        Assert.Equal(4, cache.GetStatistics().PendingWrites);
        return (cache, writes);
    }

    [Fact]
    public async Task Fail_ThrowsWriteBackBufferFull_AndTheWriteIsNotAccepted()
    {
        (Cache<string, string> cache, Gate writes) = await FullBufferAsync(BackpressureMode.Fail);
        try
        {
            WriteBackBufferFullException error = await Assert.ThrowsAsync<WriteBackBufferFullException>(async () => await cache.SetAsync("k5", "v5", Ct));

            Assert.Contains("'items'", error.Message, StringComparison.Ordinal);
            Assert.Contains("BufferCapacity of 4", error.Message, StringComparison.Ordinal);
            Assert.Contains("not accepted", error.Message, StringComparison.Ordinal);
            Assert.False(cache.TryGetLocal("k5", out _));
            Assert.False((await cache.GetAsync("k5", Ct)).HasValue);
            Assert.Equal(4, cache.GetStatistics().PendingWrites);

            // A write to a key already waiting replaces it: it always fits.
            await cache.SetAsync("k1", "v1 again", Ct);
            await Assert.ThrowsAsync<WriteBackBufferFullException>(async () => await cache.RemoveAsync("k6", WriteStrategy.WriteBack, Ct));

            writes.Release();
            await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the buffer drains");
            Assert.Equal(["k1", "k2", "k3", "k4"], _store.Data.Keys.Order());
            Assert.Equal("v1 again", _store["k1"]);

            // Room again: the next write is accepted.
            await cache.SetAsync("k5", "v5", Ct);
            await cache.FlushAsync(Ct);
            Assert.Equal("v5", _store["k5"]);
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    [Fact]
    public async Task Wait_HoldsTheWriteUntilTheFlusherMakesRoom()
    {
        (Cache<string, string> cache, Gate writes) = await FullBufferAsync(BackpressureMode.Wait);
        try
        {
            Task waiting = cache.SetAsync("k5", "v5", CancellationToken.None).AsTask();

            Assert.False(waiting.IsCompleted);
            Assert.False(cache.TryGetLocal("k5", out _));
            await cache.SetAsync("k2", "v2 again", Ct);

            writes.Release();
            await Eventually.CompletesAsync(waiting, "the waiting write is accepted once the flusher made room");
            Assert.True(cache.TryGetLocal("k5", out string accepted));
            Assert.Equal("v5", accepted);
            await cache.FlushAsync(Ct);
            Assert.Equal(5, _store.Data.Count);
            Assert.Equal("v2 again", _store["k2"]);
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    [Fact]
    public async Task Wait_IsCancellable_AndACancelledWriteIsNotAccepted()
    {
        (Cache<string, string> cache, Gate writes) = await FullBufferAsync(BackpressureMode.Wait);
        try
        {
            using var cancel = new CancellationTokenSource();
            Task waiting = cache.SetAsync("k5", "v5", cancel.Token).AsTask();
            Assert.False(waiting.IsCompleted);

            await cancel.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
            writes.Release();
            await cache.FlushAsync(Ct);
            Assert.False(_store.Data.ContainsKey("k5"));
            Assert.False(cache.TryGetLocal("k5", out _));
            Assert.Equal(4, _store.Data.Count);
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache, _time);
        }
    }
}
