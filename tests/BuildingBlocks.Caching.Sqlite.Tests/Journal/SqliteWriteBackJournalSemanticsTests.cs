using BuildingBlocks.Caching.Sqlite.Tests.Support;

namespace BuildingBlocks.Caching.Sqlite.Tests.Journal;

/// <summary>What append, remove and read mean: the newest write per cache and key, removed only up to the flushed version.</summary>
public sealed class SqliteWriteBackJournalSemanticsTests : JournalTests
{
    [Fact]
    public async Task Append_ThenRead_ReturnsTheEntryWithItsKeyValueAndVersion()
    {
        SqliteWriteBackJournal journal = Open();
        byte[] key = [0x22, 0x6B, 0x22];
        byte[] value = [0, 1, 2, 255, 0];

        await journal.AppendAsync(new JournalEntry("users", key, value, 42), Ct);

        JournalEntry entry = Assert.Single(await journal.ReadAsync("users", Ct));
        Assert.Equal("users", entry.CacheName);
        Assert.Equal(key, entry.Key);
        Assert.Equal(value, entry.Value);
        Assert.Equal(42, entry.Version);
    }

    [Fact]
    public async Task Read_OfACacheWithNothingJournaled_IsEmpty()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "1", 1), Ct);

        Assert.Empty(await journal.ReadAsync("orders", Ct));
    }

    [Fact]
    public async Task Read_OnAFileThatDoesNotExistYet_CreatesTheJournalAndIsEmpty()
    {
        SqliteWriteBackJournal journal = Open("sub/dir/journal.db");

        Assert.Empty(await journal.ReadAsync("users", Ct));
        Assert.True(File.Exists(PathOf("sub/dir/journal.db")));
        Assert.Equal(PathOf("sub/dir/journal.db"), journal.DatabasePath);
    }

    [Fact]
    public async Task Append_OlderThenNewerVersionOfAKey_KeepsOnlyTheNewer()
    {
        SqliteWriteBackJournal journal = Open();

        await journal.AppendAsync(Entry("users", "a", "old", 3), Ct);
        await journal.AppendAsync(Entry("users", "a", "new", 5), Ct);

        Assert.Equal([("a", "new", 5L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task Append_NewerThenLateOlderVersionOfAKey_KeepsTheNewer()
    {
        SqliteWriteBackJournal journal = Open();

        await journal.AppendAsync(Entry("users", "a", "new", 5), Ct);
        await journal.AppendAsync(Entry("users", "a", "old", 3), Ct);

        Assert.Equal([("a", "new", 5L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task Append_VersionsOfOneKeyQueuedTogether_InAnyOrder_KeepTheNewest()
    {
        SqliteWriteBackJournal journal = Open();
        long[] versions = [7, 2, 9, 1, 8, 3];

        // Not awaited one by one: queued together, they share transactions.
        await Task.WhenAll(versions.Select(v => journal.AppendAsync(Entry("users", "a", $"v{v}", v), Ct).AsTask()));

        Assert.Equal([("a", "v9", 9L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task Append_Delete_IsJournaledAsANullValue_AndAnEmptyValueStaysEmpty()
    {
        SqliteWriteBackJournal journal = Open();

        await journal.AppendAsync(new JournalEntry("users", Key("deleted"), null, 1), Ct);
        await journal.AppendAsync(new JournalEntry("users", Key("empty"), [], 2), Ct);
        await journal.AppendAsync(new JournalEntry("users", Key("set"), Value("x"), 3), Ct);
        await journal.AppendAsync(new JournalEntry("users", Key("set"), null, 4), Ct);

        IReadOnlyList<JournalEntry> entries = await journal.ReadAsync("users", Ct);
        Assert.Equal(3, entries.Count);
        Assert.Null(entries[0].Value);
        Assert.NotNull(entries[1].Value);
        Assert.Empty(entries[1].Value!);
        Assert.Equal(Key("set"), entries[2].Key);
        Assert.Null(entries[2].Value);
        Assert.Equal(4L, entries[2].Version);
    }

    [Fact]
    public async Task Append_AnEmptyKey_IsKeptAndReadBackEmpty()
    {
        SqliteWriteBackJournal journal = Open();

        await journal.AppendAsync(new JournalEntry("users", [], Value("x"), 1), Ct);

        JournalEntry entry = Assert.Single(await journal.ReadAsync("users", Ct));
        Assert.Empty(entry.Key);
        Assert.Equal(Value("x"), entry.Value);
    }

    [Fact]
    public async Task Read_ReturnsEntriesOldestVersionFirst()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "c", "3", 30), Ct);
        await journal.AppendAsync(Entry("users", "a", "1", 10), Ct);
        await journal.AppendAsync(Entry("users", "b", "2", 20), Ct);
        await journal.AppendAsync(Entry("users", "a", "4", 40), Ct);

        Assert.Equal([("b", "2", 20L), ("c", "3", 30L), ("a", "4", 40L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task SeveralCaches_InOneFile_AreSeparate_EvenForTheSameKey()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "user-a", 1), Ct);
        await journal.AppendAsync(Entry("orders", "a", "order-a", 2), Ct);
        await journal.AppendAsync(Entry("orders", "b", "order-b", 3), Ct);

        // An older version in another cache does not lose to the newer one of "users" (versions are per cache and key).
        await journal.AppendAsync(Entry("users", "b", "user-b", 1), Ct);
        await journal.RemoveAsync("users", [new JournalKeyVersion(Key("a"), 100)], Ct);

        Assert.Equal([("b", "user-b", 1L)], await ReadShownAsync(journal, "users"));
        Assert.Equal([("a", "order-a", 2L), ("b", "order-b", 3L)], await ReadShownAsync(journal, "orders"));
    }

    [Fact]
    public async Task Remove_WithTheJournaledVersionOrNewer_DeletesTheRow()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "1", 5), Ct);
        await journal.AppendAsync(Entry("users", "b", "2", 6), Ct);
        await journal.AppendAsync(Entry("users", "c", "3", 7), Ct);

        await journal.RemoveAsync("users", [new JournalKeyVersion(Key("a"), 5), new JournalKeyVersion(Key("b"), long.MaxValue)], Ct);

        Assert.Equal([("c", "3", 7L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task Remove_WithAnOlderVersion_KeepsTheNewerWriteJournaledMeanwhile()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "first", 5), Ct);

        // While version 5 was being flushed, version 6 of the same key was journaled.
        await journal.AppendAsync(Entry("users", "a", "second", 6), Ct);
        await journal.RemoveAsync("users", [new JournalKeyVersion(Key("a"), 5)], Ct);

        Assert.Equal([("a", "second", 6L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task Remove_OfKeysThatAreNotThere_AndAnEmptyList_ChangeNothing()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "1", 5), Ct);

        await journal.RemoveAsync("users", [new JournalKeyVersion(Key("zzz"), 99)], Ct);
        await journal.RemoveAsync("orders", [new JournalKeyVersion(Key("a"), 99)], Ct);
        await journal.RemoveAsync("users", [], Ct);

        Assert.Equal([("a", "1", 5L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task AppendAndRemove_QueuedTogether_RunInTheOrderTheyWereCalled()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "open", "x", 1), Ct);

        // Queued without awaiting in between, so they land in one transaction: the remove must see the append before it.
        ValueTask append = journal.AppendAsync(Entry("users", "a", "1", 5), Ct);
        ValueTask remove = journal.RemoveAsync("users", [new JournalKeyVersion(Key("a"), 5)], Ct);
        ValueTask appendAgain = journal.AppendAsync(Entry("users", "b", "2", 6), Ct);
        await append;
        await remove;
        await appendAgain;

        Assert.Equal([("open", "x", 1L), ("b", "2", 6L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task Remove_CopiesTheKeys_SoTheCallerMayReuseItsList()
    {
        SqliteWriteBackJournal journal = Open();
        await journal.AppendAsync(Entry("users", "a", "1", 5), Ct);
        await journal.AppendAsync(Entry("users", "b", "2", 5), Ct);
        List<JournalKeyVersion> flushed = [new(Key("a"), 5)];

        ValueTask remove = journal.RemoveAsync("users", flushed, Ct);
        flushed[0] = new JournalKeyVersion(Key("b"), 5);
        await remove;

        Assert.Equal([("b", "2", 5L)], await ReadShownAsync(journal, "users"));
    }

    [Fact]
    public async Task Calls_WithoutACacheNameOrKey_ThrowArgumentException_AndJournalNothing()
    {
        SqliteWriteBackJournal journal = Open();

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await journal.AppendAsync(null!, Ct));
        Assert.Contains("cache name is empty", (await Assert.ThrowsAsync<ArgumentException>(async () => await journal.AppendAsync(Entry("", "a", "1", 1), Ct))).Message, StringComparison.Ordinal);
        Assert.Contains("Key is null", (await Assert.ThrowsAsync<ArgumentException>(async () => await journal.AppendAsync(new JournalEntry("users", null!, null, 1), Ct))).Message, StringComparison.Ordinal);
        Assert.Contains("flushed[1].Key is null", (await Assert.ThrowsAsync<ArgumentException>(async () => await journal.RemoveAsync("users", [new(Key("a"), 1), new(null!, 1)], Ct))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await journal.ReadAsync("", Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await journal.ReadAsync(null!, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await journal.RemoveAsync("users", null!, Ct));

        Assert.Empty(await journal.ReadAsync("users", Ct));
    }

    [Fact]
    public async Task Append_WithACanceledToken_IsCanceledAndJournalsNothing()
    {
        SqliteWriteBackJournal journal = Open();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await journal.AppendAsync(Entry("users", "a", "1", 1), canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await journal.RemoveAsync("users", [new(Key("a"), 1)], canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await journal.ReadAsync("users", canceled.Token));

        Assert.Empty(await journal.ReadAsync("users", Ct));
    }

    [Fact]
    public async Task Append_WithACancelableToken_CompletesNormally()
    {
        SqliteWriteBackJournal journal = Open();
        using var cancelable = new CancellationTokenSource();

        await journal.AppendAsync(Entry("users", "a", "1", 1), cancelable.Token);

        Assert.Single(await journal.ReadAsync("users", cancelable.Token));
    }
}
