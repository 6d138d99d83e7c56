namespace BuildingBlocks.Caching.Sqlite;

/// <summary>One queued journal operation: an append, a remove, or (neither) a barrier that only needs the file open.</summary>
internal readonly struct JournalOperation
{
    private JournalOperation(JournalEntry? entry, string? cacheName, JournalKeyVersion[]? flushed)
    {
        Entry = entry;
        CacheName = cacheName;
        Flushed = flushed;
    }

    /// <summary>The entry to append, or <see langword="null"/>.</summary>
    public JournalEntry? Entry { get; }

    /// <summary>The cache of a remove, or <see langword="null"/>.</summary>
    public string? CacheName { get; }

    /// <summary>The keys of a remove, or <see langword="null"/>.</summary>
    public JournalKeyVersion[]? Flushed { get; }

    public bool IsWrite => Entry is not null || Flushed is not null;

    public static JournalOperation Append(JournalEntry entry) => new(entry, null, null);

    public static JournalOperation Remove(string cacheName, JournalKeyVersion[] flushed) => new(null, cacheName, flushed);

    public static JournalOperation Barrier() => new(null, null, null);
}

/// <summary>
/// The operations that arrived while the previous transaction ran: the writer commits them all in one transaction (group
/// commit) and completes one task for all of them. An operation the database refuses on its own (its statement undid only
/// itself) gets its own error; the others still commit.
/// </summary>
internal sealed class JournalBatch(int capacity)
{
    // Continuations run on the thread pool, not on the writer thread that completes the batch.
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception?[]? _errors;

    public List<JournalOperation> Operations { get; } = new(capacity);

    /// <summary>Completes when the batch's transaction committed (each operation then checks <see cref="ErrorAt"/>) or faults when none of it was journaled.</summary>
    public Task Done => _done.Task;

    public int Count => Operations.Count;

    /// <summary>Adds an operation (under the journal's lock) and returns its index.</summary>
    public int Add(JournalOperation operation)
    {
        Operations.Add(operation);
        return Operations.Count - 1;
    }

    /// <summary>The error of one operation the database refused while the rest committed, or <see langword="null"/>.</summary>
    public Exception? ErrorAt(int index) => _errors?[index];

    /// <summary>Records that one operation was refused (on the writer thread, before <see cref="Complete"/>).</summary>
    public void FailOne(int index, Exception error) => (_errors ??= new Exception?[Operations.Count])[index] = error;

    public void Complete() => _done.TrySetResult();

    public void FailAll(Exception error) => _done.TrySetException(error);
}
