namespace BuildingBlocks.Caching;

/// <summary>How L1 chooses what to evict when it is full.</summary>
public enum EvictionPolicy
{
    /// <summary>
    /// W-TinyLFU (BitFaster.Caching ConcurrentLfu): admits a new key only if it is used more often than the one it
    /// would evict, so a one-off scan does not flush the hot set. The default.
    /// </summary>
    FrequencyAware = 0,

    /// <summary>Least recently used (BitFaster.Caching ConcurrentLru, a pseudo-LRU with hot/warm/cold queues).</summary>
    Lru = 1,
}
