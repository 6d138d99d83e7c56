namespace BuildingBlocks.Caching;

/// <summary>Counters of one cache since it was created.</summary>
public sealed record CacheStatistics
{
    /// <summary>Reads answered from L1 (or from a write-back write not yet flushed).</summary>
    public long Hits { get; init; }

    /// <summary>Reads L1 could not answer.</summary>
    public long Misses { get; init; }

    /// <summary><see cref="Hits"/> / (<see cref="Hits"/> + <see cref="Misses"/>); 0 before the first read.</summary>
    public double HitRatio => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);

    /// <summary>Misses answered by L2.</summary>
    public long L2Hits { get; init; }

    /// <summary>Calls to the backing store to load (a multi-key load counts once).</summary>
    public long StoreLoads { get; init; }

    /// <summary>Loads that threw or timed out.</summary>
    public long StoreLoadFailures { get; init; }

    /// <summary>Entries in L1 now.</summary>
    public int L1Count { get; init; }

    /// <summary>Entries L1 evicted to stay within its capacity.</summary>
    public long Evictions { get; init; }

    /// <summary>
    /// Entries a miss loaded that were evicted before they were read again: the load was wasted, and high values mean
    /// thrashing (L1 too small for the working set, or a scan flushing it). Entries put in L1 by writes are not counted.
    /// </summary>
    public long EvictedBeforeReuse { get; init; }

    /// <summary>Keys written to the store (save or delete), by any strategy.</summary>
    public long StoreWrites { get; init; }

    /// <summary>Write-back writes that replaced a write to the same key still waiting: store writes saved.</summary>
    public long CoalescedWrites { get; init; }

    /// <summary>Write-back keys waiting for the store now.</summary>
    public int PendingWrites { get; init; }

    /// <summary>How long the oldest waiting write-back write has waited.</summary>
    public TimeSpan WriteBackLag { get; init; }

    /// <summary>Store calls by the write-back flusher that failed (each is retried).</summary>
    public long FlushFailures { get; init; }

    /// <summary>Writes in the dead-letter list now.</summary>
    public int DeadLetters { get; init; }

    /// <summary>Invalidations this node sent on the backplane.</summary>
    public long InvalidationsSent { get; init; }

    /// <summary>Invalidations from other nodes that this cache applied.</summary>
    public long InvalidationsReceived { get; init; }

    /// <summary>Times this cache dropped its L1 because backplane messages may have been missed.</summary>
    public long Revalidations { get; init; }

    /// <summary>L2 (IDistributedCache) or backplane calls that failed; the cache carried on without them.</summary>
    public long DistributedFailures { get; init; }
}
