using System.Text;
using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteBack;

/// <summary>The cache's side of the write-back journal (the SQLite journal has tests of its own).</summary>
public sealed class JournalTests
{
    private readonly RecordingStore _store = new();
    private readonly InMemoryJournal _journal = new();
    private readonly FakeTimeProvider _time = NewClock();

    private Cache<string, string> CreateJournaled(int maxAttempts = 5) => Create(_store, o => o.WriteBack(w =>
    {
        w.Journal = _journal;
        w.FlushInterval = TimeSpan.FromHours(1);
        w.MaxAttempts = maxAttempts;
    }), time: _time);

    [Fact]
    public async Task WriteBack_JournalsTheWriteBeforeReturning_AndForgetsItOnceTheStoreHasIt()
    {
        await using Cache<string, string> cache = CreateJournaled();

        await cache.SetAsync("k", "v", Ct);
        await cache.RemoveAsync("gone", Ct);

        JournalEntry write = Assert.Single(_journal.Entries, e => Encoding.UTF8.GetString(e.Key) == "\"k\"");
        Assert.Equal(Name, write.CacheName);
        Assert.Equal("\"v\"", Encoding.UTF8.GetString(write.Value!));
        JournalEntry delete = Assert.Single(_journal.Entries, e => Encoding.UTF8.GetString(e.Key) == "\"gone\"");
        Assert.Null(delete.Value);
        Assert.Empty(_store.Calls);

        await cache.FlushAsync(Ct);

        Assert.Equal("v", _store["k"]);
        Assert.Empty(_journal.Entries);
    }

    [Fact]
    public async Task Start_ReplaysTheJournal_IntoTheBuffer_AndTheStoreGetsItOnTheNextFlush()
    {
        _store["k"] = "stale in the store";
        _journal.Seed(Name, "\"k\"", "\"journaled\"", version: 10);
        _journal.Seed(Name, "\"d\"", null, version: 11);
        _journal.Seed("another-cache", "\"k\"", "\"not mine\"", version: 12);
        _store["d"] = "to delete";
        await using Cache<string, string> cache = CreateJournaled();

        await cache.StartAsync(Ct);

        Assert.Equal(2, cache.GetStatistics().PendingWrites);
        Assert.Equal("journaled", await cache.GetOrLoadAsync("k", Ct));
        Assert.Null(await cache.GetOrLoadAsync("d", Ct));
        Assert.Empty(_store.Calls);
        await cache.FlushAsync(Ct);
        Assert.Equal("journaled", _store["k"]);
        Assert.False(_store.Data.ContainsKey("d"));
        Assert.Single(_journal.Entries);
    }

    [Fact]
    public async Task Start_LeavesUnreadableJournalEntriesInTheJournal_AndReplaysTheRest()
    {
        _journal.Seed(Name, "{not a key", "\"x\"", version: 1);
        _journal.Seed(Name, "\"bad-value\"", "{not a value", version: 2);
        _journal.Seed(Name, "\"good\"", "\"g\"", version: 3);
        await using Cache<string, string> cache = CreateJournaled();

        await cache.StartAsync(Ct);
        await cache.FlushAsync(Ct);

        Assert.Equal("g", _store["good"]);
        Assert.Equal(2, _journal.Entries.Count);
        Assert.Single(_store.Data);
    }

    [Fact]
    public async Task JournalAppendFailure_FailsTheWrite_AndNothingIsAccepted()
    {
        await using Cache<string, string> cache = CreateJournaled();
        _journal.FailAppends = true;

        await Assert.ThrowsAsync<IOException>(async () => await cache.SetAsync("k", "v", Ct));

        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Equal(0, cache.GetStatistics().PendingWrites);
        await cache.FlushAsync(Ct);
        Assert.Empty(_store.Calls);
    }

    [Fact]
    public async Task ValueTheJournalCannotSerialize_FailsWithCacheSerializationException_AndNothingIsAccepted()
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.ValueSerializer = new RefusingSerializer();
            o.WriteBack(w => w.Journal = _journal);
        }, time: _time);

        CacheSerializationException error = await Assert.ThrowsAsync<CacheSerializationException>(async () => await cache.SetAsync("k", "v", Ct));

        Assert.Contains("'k'", error.Message, StringComparison.Ordinal);
        Assert.Contains("not accepted", error.Message, StringComparison.Ordinal);
        Assert.False(cache.TryGetLocal("k", out _));
        Assert.Empty(_journal.Entries);
    }

    [Fact]
    public async Task DiscardedDeadLetters_LeaveTheJournal()
    {
        _store.RejectWritesOf("bad");
        Cache<string, string> cache = CreateJournaled(maxAttempts: 1);
        try
        {
            await cache.SetAsync("bad", "poison", Ct);
            await AdvanceUntilCompletedAsync(_time, cache.FlushAsync(CancellationToken.None).AsTask(), TimeSpan.FromSeconds(1), "the write is dead-lettered");
            Assert.Single(cache.GetDeadLetters());

            // Dead-lettered writes stay journaled: a restart must not lose them silently.
            Assert.Single(_journal.Entries);

            Assert.Equal(1, await cache.DiscardDeadLettersAsync(Ct));
            Assert.Empty(_journal.Entries);
        }
        finally
        {
            await DisposeWithinLimitAsync(cache, _time);
        }
    }

    private sealed class RefusingSerializer : ICacheSerializer<string>
    {
        public byte[] Serialize(string value) => throw new NotSupportedException("no bytes for you");

        public string Deserialize(ReadOnlySpan<byte> bytes) => throw new NotSupportedException();
    }
}
