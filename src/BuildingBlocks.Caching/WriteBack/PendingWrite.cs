namespace BuildingBlocks.Caching;

/// <summary>
/// A write-back write waiting for the store. Immutable: coalescing and retry bookkeeping replace the instance, so the
/// flusher can tell (by reference) whether the key was written again while its batch was in flight.
/// </summary>
internal sealed class PendingWrite<TKey, TValue>
    where TKey : notnull
{
    public PendingWrite(TKey key, TValue value, bool isDelete, long version, long firstQueuedMs, byte[]? journalKey)
    {
        Key = key;
        Value = value;
        IsDelete = isDelete;
        Version = version;
        FirstQueuedMs = firstQueuedMs;
        JournalKey = journalKey;
    }

    public TKey Key { get; }

    public TValue Value { get; }

    public bool IsDelete { get; }

    public long Version { get; }

    /// <summary>When the key started waiting; coalesced writes keep it, so a hot key is not postponed forever.</summary>
    public long FirstQueuedMs { get; }

    /// <summary>The key as journaled (UTF-8 JSON), when a journal is used.</summary>
    public byte[]? JournalKey { get; }

    /// <summary>Store attempts that failed with this write written alone.</summary>
    public int Attempts { get; private init; }

    /// <summary>True after it failed inside a batch: from then on it is written alone, so one bad entry blocks no other.</summary>
    public bool Isolated { get; private init; }

    public long NextAttemptMs { get; private init; }

    public string? LastError { get; private init; }

    public PendingWrite<TKey, TValue> Coalesce(TValue value, bool isDelete, long version, byte[]? journalKey) =>
        new(Key, value, isDelete, version, FirstQueuedMs, journalKey ?? JournalKey) { Isolated = Isolated, NextAttemptMs = NextAttemptMs };

    public PendingWrite<TKey, TValue> Failed(bool counts, long nextAttemptMs, string error) =>
        new(Key, Value, IsDelete, Version, FirstQueuedMs, JournalKey)
        {
            Attempts = counts ? Attempts + 1 : Attempts,
            Isolated = true,
            NextAttemptMs = nextAttemptMs,
            LastError = error,
        };
}
