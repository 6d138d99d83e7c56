namespace BuildingBlocks.Caching;

/// <summary>How a write flows to the cache and the backing store.</summary>
public enum WriteStrategy
{
    /// <summary>
    /// The store is written first, then the cache, before the call returns. If the store fails, the call throws and
    /// the cache does not keep the new value. Nothing acknowledged can be lost; every write costs a store round trip.
    /// </summary>
    WriteThrough = 0,

    /// <summary>
    /// The store is written, then the key is invalidated in every cache layer and on every node; the next read loads
    /// it. For values that are written more often than read, or that are expensive to serialize.
    /// </summary>
    WriteAround = 1,

    /// <summary>
    /// The cache is updated and the call returns at once; a background flusher writes to the store later,
    /// coalescing repeated writes to a key and batching. Readers on this node see the write immediately. Writes not
    /// yet flushed are lost if the process crashes, unless a durable journal is configured.
    /// </summary>
    WriteBack = 2,
}
