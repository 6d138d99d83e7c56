using System.Diagnostics;

namespace BuildingBlocks.Caching;

/// <summary>Names of the meter, activity source, instruments and tags this package emits.</summary>
public static class CachingDiagnostics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry.</summary>
    public const string MeterName = "BuildingBlocks.Caching";

    /// <summary>The activity source name, for <c>AddSource</c> in OpenTelemetry.</summary>
    public const string ActivitySourceName = "BuildingBlocks.Caching";

    /// <summary>Meter tag: the cache name.</summary>
    public const string CacheTag = "buildingblocks.cache.name";

    /// <summary>Tag: the layer that answered or failed (l1, l2, store, backplane).</summary>
    public const string LayerTag = "buildingblocks.cache.layer";

    /// <summary>Tag on store write spans and counters: the strategy (write_through, write_around, write_back).</summary>
    public const string StrategyTag = "buildingblocks.cache.strategy";

    /// <summary>Counter of reads answered by a layer ({read}), tagged with the layer (l1 or l2).</summary>
    public const string HitsInstrument = "buildingblocks.cache.hits";

    /// <summary>Counter of reads no cache layer could answer ({read}).</summary>
    public const string MissesInstrument = "buildingblocks.cache.misses";

    /// <summary>Counter of backing-store loads ({load}); a multi-key load counts once.</summary>
    public const string LoadsInstrument = "buildingblocks.cache.store.loads";

    /// <summary>Counter of failed or timed-out backing-store loads ({load}).</summary>
    public const string LoadFailuresInstrument = "buildingblocks.cache.store.load_failures";

    /// <summary>Histogram of backing-store load time (s).</summary>
    public const string LoadDurationInstrument = "buildingblocks.cache.store.load.duration";

    /// <summary>Counter of keys written to the backing store ({write}), tagged with the strategy.</summary>
    public const string StoreWritesInstrument = "buildingblocks.cache.store.writes";

    /// <summary>Counter of write-back writes that replaced a waiting write to the same key ({write}).</summary>
    public const string CoalescedWritesInstrument = "buildingblocks.cache.writeback.coalesced";

    /// <summary>Gauge of write-back keys waiting for the store ({write}).</summary>
    public const string WriteBackDepthInstrument = "buildingblocks.cache.writeback.depth";

    /// <summary>Gauge of the age of the oldest waiting write-back write (s).</summary>
    public const string WriteBackLagInstrument = "buildingblocks.cache.writeback.lag";

    /// <summary>Counter of failed write-back store calls ({call}); each is retried.</summary>
    public const string FlushFailuresInstrument = "buildingblocks.cache.writeback.flush_failures";

    /// <summary>Counter of write-back writes moved to the dead-letter list ({write}).</summary>
    public const string DeadLettersInstrument = "buildingblocks.cache.writeback.dead_letters";

    /// <summary>Counter of invalidations sent on the backplane ({message}).</summary>
    public const string InvalidationsSentInstrument = "buildingblocks.cache.invalidations.sent";

    /// <summary>Counter of invalidations from other nodes applied ({message}).</summary>
    public const string InvalidationsReceivedInstrument = "buildingblocks.cache.invalidations.received";

    /// <summary>Counter of L1 revalidations after backplane messages may have been missed ({revalidation}).</summary>
    public const string RevalidationsInstrument = "buildingblocks.cache.revalidations";

    /// <summary>Counter of L1 evictions ({entry}).</summary>
    public const string EvictionsInstrument = "buildingblocks.cache.l1.evictions";

    /// <summary>Counter of L1 entries evicted before they were read even once ({entry}): thrashing.</summary>
    public const string EvictedBeforeReuseInstrument = "buildingblocks.cache.l1.evicted_before_reuse";

    /// <summary>Gauge of L1 entries ({entry}).</summary>
    public const string L1CountInstrument = "buildingblocks.cache.l1.count";

    /// <summary>Counter of failed L2 or backplane calls ({call}), tagged with the layer; the cache carried on without them.</summary>
    public const string DistributedFailuresInstrument = "buildingblocks.cache.distributed.failures";

    /// <summary>The span around a backing-store load.</summary>
    public const string LoadActivity = "Cache.Load";

    /// <summary>The span around a backing-store write (write-through, write-around, or a write-back flush batch).</summary>
    public const string StoreWriteActivity = "Cache.StoreWrite";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
