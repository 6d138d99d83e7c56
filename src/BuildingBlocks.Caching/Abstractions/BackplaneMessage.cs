namespace BuildingBlocks.Caching;

/// <summary>
/// One invalidation on the backplane: every other node's cache <paramref name="CacheName"/> drops <paramref name="Key"/>
/// (the key serialized as JSON) from L1 and stops any load of it in flight from caching what it read.
/// </summary>
/// <param name="SourceNode">The sending node's id; a node ignores its own messages.</param>
/// <param name="Sequence">Numbers the sender's messages 1, 2, 3, …; a receiver that sees a gap revalidates.</param>
/// <param name="CacheName">The cache the key belongs to.</param>
/// <param name="Key">The key as UTF-8 JSON; empty for <see cref="BackplaneMessageKind.Clear"/>.</param>
/// <param name="Version">The version of the write that caused the invalidation (for diagnostics; receivers always drop the key, which is never wrong).</param>
/// <param name="Kind">What to do.</param>
public sealed record BackplaneMessage(
    Guid SourceNode,
    long Sequence,
    string CacheName,
    ReadOnlyMemory<byte> Key,
    long Version,
    BackplaneMessageKind Kind);

/// <summary>What a <see cref="BackplaneMessage"/> asks of the receiving nodes.</summary>
public enum BackplaneMessageKind
{
    /// <summary>Drop the key from L1.</summary>
    Invalidate = 0,

    /// <summary>Drop every entry of the cache from L1.</summary>
    Clear = 1,

    /// <summary>No cache change: keeps sequence numbers flowing so that gaps are noticed soon.</summary>
    Heartbeat = 2,

    /// <summary>
    /// Drop the key from L1 and remove it from L2: the sender could not update L2 itself (its L2 call failed or its
    /// circuit was open), so the L2 entry may be older than the store.
    /// </summary>
    InvalidateIncludingDistributed = 3,
}
