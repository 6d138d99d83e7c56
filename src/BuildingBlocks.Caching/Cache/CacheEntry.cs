namespace BuildingBlocks.Caching;

/// <summary>One L1 entry: the value, the version of the write or load that produced it, and its expiry.</summary>
internal sealed class CacheEntry<TValue>
{
    // min(absolute expiry, idle deadline): one comparison on the hit path.
    private long _deadlineMs;
    private bool _read;

    public CacheEntry(TValue value, long version, long expiresAtMs, long slidingMs, long nowMs, bool loaded)
    {
        Loaded = loaded;
        Value = value;
        Version = version;
        ExpiresAtMs = expiresAtMs;
        SlidingMs = slidingMs;
        _deadlineMs = slidingMs == 0 ? expiresAtMs : Math.Min(expiresAtMs, nowMs + slidingMs);
    }

    public TValue Value { get; }

    /// <summary>True when a load (a miss) put the entry in L1, not a write: only those count for evicted-before-reuse.</summary>
    public bool Loaded { get; }

    public long Version { get; }

    public long ExpiresAtMs { get; }

    public long SlidingMs { get; }

    /// <summary>True once the entry was read after it was cached; an eviction before that is thrashing.</summary>
    public bool WasRead => Volatile.Read(ref _read);

    /// <summary>Checks expiry and records the read (sliding window, reuse flag). The hit path: no allocation.</summary>
    public bool TryRead(long nowMs)
    {
        if (nowMs >= Volatile.Read(ref _deadlineMs))
        {
            return false;
        }

        if (!_read)
        {
            Volatile.Write(ref _read, true);
        }

        if (SlidingMs != 0)
        {
            Volatile.Write(ref _deadlineMs, Math.Min(ExpiresAtMs, nowMs + SlidingMs));
        }

        return true;
    }
}
