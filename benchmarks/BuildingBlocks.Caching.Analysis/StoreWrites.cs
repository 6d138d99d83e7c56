using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Caching.Analysis;

/// <summary>One run of the store-writes comparison.</summary>
/// <param name="Strategy">Write-through or write-back.</param>
/// <param name="Pace">How the writes were issued.</param>
/// <param name="Writes">Acknowledged <c>SetAsync</c> calls.</param>
/// <param name="StoreWrites">Keys the store was asked to save (counted by the store: the sum of <c>SaveAsync</c> batch sizes).</param>
/// <param name="StoreCalls"><c>SaveAsync</c> calls (batches).</param>
/// <param name="ReportedStoreWrites"><c>GetStatistics().StoreWrites</c>, as a cross-check.</param>
/// <param name="Coalesced"><c>GetStatistics().CoalescedWrites</c>.</param>
/// <param name="Elapsed">Wall-clock time of the run, final flush included.</param>
internal sealed record StoreWritesResult(string Strategy, string Pace, long Writes, long StoreWrites, long StoreCalls, long ReportedStoreWrites, long Coalesced, TimeSpan Elapsed)
{
    public double Saved => 1.0 - ((double)StoreWrites / Writes);
}

/// <summary>
/// Store writes of write-back against write-through for the same writes: Zipf-distributed keys, one writer, a store
/// that does nothing but count. Write-back uses the package defaults (FlushInterval 1 s, batches of 500, buffer of
/// 100,000 keys, flushed early when half full) and ends with <c>FlushAsync</c>, so every write has reached the store when
/// the count is taken.
/// </summary>
internal static class StoreWritesAnalysis
{
    /// <summary>Every write issued as fast as one caller can (awaiting each), on the real clock.</summary>
    public static async Task<StoreWritesResult> RunUnpacedAsync(int[] keys, WriteStrategy strategy, int? bufferCapacity = null)
    {
        var store = new CountingStore();
        var cache = NewCache(store, strategy, timeProvider: null, bufferCapacity);
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < keys.Length; i++)
        {
            ValueTask write = cache.SetAsync(keys[i], i);
            if (!write.IsCompletedSuccessfully)
            {
                await write;
            }
        }

        await cache.FlushAsync();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        string pace = "unpaced (as fast as one writer can), real clock" + (bufferCapacity is { } capacity ? $", BufferCapacity {capacity:N0}" : "");
        return await FinishAsync(cache, store, strategy, pace, keys.Length, elapsed);
    }

    /// <summary>
    /// The writes spread evenly at <paramref name="writesPerSecond"/> over a virtual clock (FakeTimeProvider), advanced by
    /// one millisecond at a time; after each step the run waits until the flusher has written everything that is due,
    /// as a flusher that keeps up would have. The flusher runs on the thread pool beside the writer, so counts vary a
    /// little between runs (a few late timers, early flushes of a half-full buffer racing the writer).
    /// </summary>
    public static async Task<StoreWritesResult> RunPacedAsync(int[] keys, WriteStrategy strategy, int writesPerSecond)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new CountingStore();
        var cache = NewCache(store, strategy, time);
        TimeSpan flushInterval = new WriteBackOptions().FlushInterval;
        long started = Stopwatch.GetTimestamp();
        double writesPerMs = writesPerSecond / 1000.0;
        double due = writesPerMs;
        int nudged = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            ValueTask write = cache.SetAsync(keys[i], i);
            if (!write.IsCompletedSuccessfully)
            {
                await write;
            }

            while (i + 1 >= due)
            {
                time.Advance(TimeSpan.FromMilliseconds(1));
                due += writesPerMs;
                nudged += await WaitForFlusherAsync(cache, time, flushInterval);
            }
        }

        await cache.FlushAsync();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        string pace = $"{writesPerSecond:N0} writes/s, virtual clock" + (nudged > 0 ? $" (+{nudged} ms without writes for late flusher timers)" : "");
        return await FinishAsync(cache, store, strategy, pace, keys.Length, elapsed);
    }

    /// <summary>
    /// Waits until nothing older than the flush interval waits in the buffer. The flusher sets its timer on the virtual
    /// clock from the time it last read; when the writer moved the clock on in between, that timer is due later than
    /// the oldest key, so after 20 ms of real time without progress the clock moves on by 1 ms, without writes, until
    /// the timer fires (as a late timer would on a real clock). Returns the milliseconds added that way.
    /// </summary>
    private static async Task<int> WaitForFlusherAsync(Cache<int, long> cache, FakeTimeProvider time, TimeSpan flushInterval)
    {
        int added = 0;
        long deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 30);
        long nudgeAt = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 50);
        CacheStatistics statistics;
        while ((statistics = cache.GetStatistics()).WriteBackLag >= flushInterval)
        {
            long now = Stopwatch.GetTimestamp();
            if (now > deadline)
            {
                throw new TimeoutException(
                    $"The write-back flusher did not write the due keys within 30 s of real time: {statistics.PendingWrites:N0} pending, lag {statistics.WriteBackLag}, " +
                    $"{statistics.StoreWrites:N0} store writes so far, {statistics.FlushFailures} flush failures.");
            }

            if (now > nudgeAt)
            {
                time.Advance(TimeSpan.FromMilliseconds(1));
                added++;
                nudgeAt = now + (Stopwatch.Frequency / 50);
            }

            await Task.Yield();
        }

        return added;
    }

    private static Cache<int, long> NewCache(CountingStore store, WriteStrategy strategy, TimeProvider? timeProvider, int? bufferCapacity = null)
    {
        var options = new CacheOptions<int, long>
        {
            Name = "store-writes",
            Expiration = TimeSpan.FromDays(1),
            UseDistributedCache = false,
        };
        _ = strategy == WriteStrategy.WriteBack
            ? options.WriteBack(wb => wb.BufferCapacity = bufferCapacity ?? wb.BufferCapacity)
            : options.WriteThrough();
        return new Cache<int, long>(store, options, timeProvider: timeProvider);
    }

    private static async Task<StoreWritesResult> FinishAsync(Cache<int, long> cache, CountingStore store, WriteStrategy strategy, string pace, long writes, TimeSpan elapsed)
    {
        CacheStatistics statistics = cache.GetStatistics();
        if (statistics.PendingWrites != 0)
        {
            throw new InvalidOperationException($"{statistics.PendingWrites} writes were still waiting after FlushAsync.");
        }

        await cache.DisposeAsync();
        string name = strategy == WriteStrategy.WriteBack ? "Write-back" : "Write-through";
        return new StoreWritesResult(name, pace, writes, store.Saved, store.Calls, statistics.StoreWrites, statistics.CoalescedWrites, elapsed);
    }

    private sealed class CountingStore : IBackingStore<int, long>
    {
        private long _saved;
        private long _calls;

        public long Saved => Interlocked.Read(ref _saved);

        public long Calls => Interlocked.Read(ref _calls);

        public ValueTask<LoadResult<long>> LoadAsync(int key, CancellationToken cancellationToken) => new(LoadResult<long>.NotFound);

        public ValueTask<IReadOnlyDictionary<int, long>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken) =>
            new(new Dictionary<int, long>());

        public ValueTask SaveAsync(IReadOnlyList<KeyValuePair<int, long>> entries, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _saved, entries.Count);
            Interlocked.Increment(ref _calls);
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(IReadOnlyList<int> keys, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
