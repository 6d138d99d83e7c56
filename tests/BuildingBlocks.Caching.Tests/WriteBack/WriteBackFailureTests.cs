using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteBack;

/// <summary>Retries, isolation of a bad entry, dead letters and store outages.</summary>
public sealed class WriteBackFailureTests
{
    private readonly RecordingStore _store = new();

    /// <summary>Write-back with retries a few milliseconds apart on the real clock.</summary>
    private Cache<string, string> CreateFast(int maxAttempts = 3) =>
        Create(_store, o => o.WriteBack(w =>
        {
            FastRetries(w);
            w.MaxAttempts = maxAttempts;
        }));

    [Fact]
    public async Task KeyTheStoreRejectsForever_EndsInTheDeadLetters_WithItsError_AndEveryOtherKeyReachesTheStore()
    {
        await using Cache<string, string> cache = CreateFast(maxAttempts: 3);
        _store.RejectWritesOf("bad", "value too long for column");
        for (int i = 0; i < 20; i++)
        {
            await cache.SetAsync($"k{i}", $"v{i}", Ct);
        }

        await cache.SetAsync("bad", "poison", Ct);
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the flush reaches the store or the dead letters");

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"v{i}", _store[$"k{i}"]);
        }

        WriteBackDeadLetter<string, string> letter = Assert.Single(cache.GetDeadLetters());
        Assert.Equal("bad", letter.Key);
        Assert.Equal("poison", letter.Value);
        Assert.False(letter.IsDelete);
        Assert.Equal(3, letter.Attempts);
        Assert.Contains("value too long for column", letter.LastError, StringComparison.Ordinal);
        Assert.False(_store.Data.ContainsKey("bad"));

        // The cache does not go on serving a value the store refused.
        Assert.False(cache.TryGetLocal("bad", out _));
        Assert.Null(await cache.GetOrLoadAsync("bad", Ct));

        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(1, stats.DeadLetters);
        Assert.Equal(0, stats.PendingWrites);
        Assert.True(stats.FlushFailures >= 4, $"{stats.FlushFailures} flush failures: the batch, then three attempts alone");

        // Exactly MaxAttempts calls held the bad key alone.
        Assert.Equal(3, _store.Calls.Count(c => c.Failed && c.Keys.Count == 1 && c.Keys[0] == "bad"));
    }

    [Fact]
    public async Task RetryDeadLetters_QueuesThemAgain_WithFreshAttempts()
    {
        await using Cache<string, string> cache = CreateFast(maxAttempts: 2);
        _store.RejectWritesOf("bad");
        await cache.SetAsync("bad", "poison", Ct);
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the write is dead-lettered");
        Assert.Single(cache.GetDeadLetters());

        _store.AcceptWritesOf("bad");
        Assert.Equal(1, await cache.RetryDeadLettersAsync(Ct));

        Assert.Empty(cache.GetDeadLetters());
        Assert.True(cache.TryGetLocal("bad", out string pending));
        Assert.Equal("poison", pending);
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the retried write reaches the store");
        Assert.Equal("poison", _store["bad"]);
        Assert.Equal(0, cache.GetStatistics().DeadLetters);
        Assert.Equal(0, await cache.RetryDeadLettersAsync(Ct));
    }

    [Fact]
    public async Task RetryDeadLetters_ThatFailAgain_ComeBackAsDeadLetters()
    {
        await using Cache<string, string> cache = CreateFast(maxAttempts: 2);
        _store.RejectWritesOf("bad");
        await cache.SetAsync("bad", "poison", Ct);
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the write is dead-lettered");

        Assert.Equal(1, await cache.RetryDeadLettersAsync(Ct));
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the retried write is dead-lettered again");

        WriteBackDeadLetter<string, string> letter = Assert.Single(cache.GetDeadLetters());
        Assert.Equal(2, letter.Attempts);
    }

    [Fact]
    public async Task DiscardDeadLetters_DropsThemForGood()
    {
        await using Cache<string, string> cache = CreateFast(maxAttempts: 1);
        _store.RejectWritesOf("bad");
        await cache.SetAsync("bad", "poison", Ct);
        await cache.RemoveAsync("bad-delete", Ct);
        _store.RejectWritesOf("bad-delete");
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the writes are dead-lettered");
        Assert.Equal(2, cache.GetDeadLetters().Count);
        WriteBackDeadLetter<string, string> delete = Assert.Single(cache.GetDeadLetters(), d => d.Key == "bad-delete");
        Assert.True(delete.IsDelete);
        Assert.Null(delete.Value);

        Assert.Equal(2, await cache.DiscardDeadLettersAsync(Ct));

        Assert.Empty(cache.GetDeadLetters());
        Assert.Equal(0, cache.GetStatistics().DeadLetters);
        Assert.Equal(0, await cache.DiscardDeadLettersAsync(Ct));
        _store.AcceptWritesOf("bad");
        Assert.Equal(0, await cache.RetryDeadLettersAsync(Ct));
        await cache.FlushAsync(Ct);
        Assert.False(_store.Data.ContainsKey("bad"));
    }

    [Fact]
    public async Task NewerWriteOfADeadLetteredKey_IsWrittenNormally()
    {
        await using Cache<string, string> cache = CreateFast(maxAttempts: 1);
        _store.RejectWritesOf("k");
        await cache.SetAsync("k", "rejected", Ct);
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the write is dead-lettered");
        _store.AcceptWritesOf("k");

        await cache.SetAsync("k", "accepted", Ct);
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the new write reaches the store");

        Assert.Equal("accepted", _store["k"]);
        Assert.True(cache.TryGetLocal("k", out string cached));
        Assert.Equal("accepted", cached);
    }

    /// <summary>
    /// A store outage is not a bad entry: every write fails, so the flusher sees that the store is down and must not
    /// spend the writes' attempts. Writes wait (in the buffer) for the store to come back, then all reach it; none is
    /// dead-lettered. On a fake clock, one retry round per advance.
    /// </summary>
    [Fact]
    public async Task StoreDownForManyRetryRounds_ThenUp_DeadLettersNothing_AndEveryWriteReachesTheStore()
    {
        FakeTimeProvider time = NewClock();
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w =>
        {
            w.MaxAttempts = 3;
            w.RetryBaseDelay = TimeSpan.FromSeconds(1);
            w.RetryMaxDelay = TimeSpan.FromSeconds(1);
        }), time: time);
        try
        {
            _store.Down = true;
            for (int i = 0; i < 10; i++)
            {
                await cache.SetAsync($"k{i}", $"v{i}", Ct);
            }

            // The batch fails, then rounds of writes alone fail: run well past MaxAttempts rounds.
            await AdvanceUntilAsync(time, () => _store.FailedWrites >= 1 + (3 * 8), TimeSpan.FromSeconds(1), "the outage lasts eight retry rounds");
            IReadOnlyList<WriteBackDeadLetter<string, string>> duringOutage = cache.GetDeadLetters();

            _store.Down = false;
            await AdvanceUntilAsync(time, () => cache.GetStatistics().PendingWrites == 0, TimeSpan.FromSeconds(1), "the buffer drains once the store is back");

            Assert.True(duringOutage.Count == 0, $"Dead-lettered during an outage: {string.Join(", ", duringOutage.Select(d => $"{d.Key} after {d.Attempts} attempts"))}");
            Assert.Empty(cache.GetDeadLetters());
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal($"v{i}", _store[$"k{i}"]);
            }
        }
        finally
        {
            _store.Down = false;
            await DisposeWithinLimitAsync(cache, time);
        }
    }

    [Fact]
    public async Task StoreDownForFewerRoundsThanMaxAttempts_ThenUp_DeadLettersNothing()
    {
        FakeTimeProvider time = NewClock();
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w =>
        {
            w.MaxAttempts = 10;
            w.RetryBaseDelay = TimeSpan.FromSeconds(1);
            w.RetryMaxDelay = TimeSpan.FromSeconds(1);
        }), time: time);
        try
        {
            _store.Down = true;
            for (int i = 0; i < 10; i++)
            {
                await cache.SetAsync($"k{i}", $"v{i}", Ct);
            }

            await AdvanceUntilAsync(time, () => _store.FailedWrites >= 1 + (3 * 3), TimeSpan.FromSeconds(1), "the outage lasts three retry rounds");
            _store.Down = false;
            await AdvanceUntilAsync(time, () => cache.GetStatistics().PendingWrites == 0, TimeSpan.FromSeconds(1), "the buffer drains once the store is back");

            Assert.Empty(cache.GetDeadLetters());
            Assert.Equal(10, _store.Data.Count);
            Assert.True(cache.GetStatistics().FlushFailures >= 10);
        }
        finally
        {
            _store.Down = false;
            await DisposeWithinLimitAsync(cache, time);
        }
    }

    [Fact]
    public async Task WhileTheStoreIsDown_AtMostThreeWritesAreTriedPerRound()
    {
        FakeTimeProvider time = NewClock();
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w =>
        {
            w.MaxAttempts = 100;
            w.RetryBaseDelay = TimeSpan.FromSeconds(1);
            w.RetryMaxDelay = TimeSpan.FromSeconds(1);
        }), time: time);
        try
        {
            _store.Down = true;
            for (int i = 0; i < 50; i++)
            {
                await cache.SetAsync($"k{i}", $"v{i}", Ct);
            }

            await AdvanceUntilAsync(time, () => _store.FailedWrites >= 4, TimeSpan.FromSeconds(1), "the batch and the first round of writes alone fail");
            await Task.Delay(50, Ct);

            // The batch failed once; then each round sent three writes alone, found the store down and sent none of the
            // others (a round that tried all 50 would show 51 failures).
            int failures = _store.FailedWrites;
            Assert.True((failures - 1) % 3 == 0 && failures < 51, $"{failures} failed store calls");
            Assert.Equal(1, _store.Calls.Count(c => c.Failed && c.Keys.Count == 50));
            Assert.All(_store.Calls.Where(c => c.Failed && c.Keys.Count != 50), c => Assert.Single(c.Keys));
            _store.Down = false;
            await AdvanceUntilAsync(time, () => cache.GetStatistics().PendingWrites == 0, TimeSpan.FromSeconds(1), "the buffer drains");
            Assert.Equal(50, _store.Data.Count);
        }
        finally
        {
            _store.Down = false;
            await DisposeWithinLimitAsync(cache, time);
        }
    }

    [Fact]
    public async Task WriteReplacingARejectedWrite_WhileItsLastAttemptIsInFlight_IsNotDeadLettered_AndReachesTheStore()
    {
        FakeTimeProvider time = NewClock();
        _store.RejectValue("poison");
        Cache<string, string> cache = Create(_store, o => o.WriteBack(w =>
        {
            w.MaxAttempts = 1;
            w.RetryBaseDelay = TimeSpan.FromSeconds(1);
            w.RetryMaxDelay = TimeSpan.FromSeconds(1);
        }), time: time);
        Gate? writes = null;
        try
        {
            await cache.SetAsync("k", "poison", Ct);
            await AdvanceUntilAsync(time, () => _store.Calls.Any(c => c.Failed), TimeSpan.FromSeconds(1), "the batch with the poison value fails");

            // The next attempt (alone, and the last one allowed) is held in the store while a newer write replaces it.
            writes = _store.HoldWrites();
            await AdvanceUntilAsync(time, () => writes.Waiters >= 1, TimeSpan.FromSeconds(1), "the last attempt of the poison value reaches the store");
            await cache.SetAsync("k", "good", Ct);
            writes.Release();
            await AdvanceUntilAsync(time, () => cache.GetStatistics().PendingWrites == 0, TimeSpan.FromSeconds(1), "the newer write reaches the store");

            Assert.Empty(cache.GetDeadLetters());
            Assert.Equal("good", _store["k"]);
            Assert.True(cache.TryGetLocal("k", out string cached));
            Assert.Equal("good", cached);
        }
        finally
        {
            writes?.Release();
            await DisposeWithinLimitAsync(cache, time);
        }
    }

    [Fact]
    public async Task DeadLetteredWrite_IsDroppedFromL1_SoReadsLoadWhatTheStoreHas()
    {
        _store["k"] = "stored";
        await using Cache<string, string> cache = CreateFast(maxAttempts: 1);
        await cache.GetOrLoadAsync("k", Ct);
        _store.RejectValue("poison");

        await cache.SetAsync("k", "poison", Ct);
        Assert.True(cache.TryGetLocal("k", out string beforeFlush));
        Assert.Equal("poison", beforeFlush);
        await Eventually.CompletesAsync(cache.FlushAsync(CancellationToken.None), "the write is dead-lettered");

        Assert.Single(cache.GetDeadLetters());
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal("stored", await cache.GetOrLoadAsync("k", Ct));
    }
}
