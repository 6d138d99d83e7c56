namespace BuildingBlocks.Caching;

/// <summary>
/// A typed cache in front of a backing store: a local L1, an optional distributed L2 and a write strategy.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public interface ICache<TKey, TValue>
    where TKey : notnull
{
    /// <summary>The cache's name: it prefixes L2 keys and routes invalidations between nodes.</summary>
    string Name { get; }

    /// <summary>
    /// Returns the value from this node only (L1, or a write-back write not yet flushed), without any I/O.
    /// </summary>
    bool TryGetLocal(TKey key, out TValue value);

    /// <summary>Returns the cached value from L1, pending writes or L2; never calls the backing store.</summary>
    ValueTask<LoadResult<TValue>> GetAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Read-through: returns the cached value, or loads it (L2, then the store) and caches it. Concurrent misses for
    /// one key share one load. Returns <see langword="default"/> when the store has no value.
    /// </summary>
    ValueTask<TValue?> GetOrLoadAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Read-through for several keys: hits come from the cache, the rest from one <see cref="IBackingStore{TKey,TValue}.LoadManyAsync"/>
    /// call. Keys the store does not have are left out of the result.
    /// </summary>
    ValueTask<IReadOnlyDictionary<TKey, TValue>> GetManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default);

    /// <summary>Writes a value with the strategy the cache's options choose for it.</summary>
    ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken = default);

    /// <summary>Writes a value with the given strategy, overriding the cache's options for this call.</summary>
    ValueTask SetAsync(TKey key, TValue value, WriteStrategy strategy, CancellationToken cancellationToken = default);

    /// <summary>Deletes the key from the store and from every cache layer, with the strategy the options choose.</summary>
    ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>Deletes the key with the given strategy, overriding the cache's options for this call.</summary>
    ValueTask RemoveAsync(TKey key, WriteStrategy strategy, CancellationToken cancellationToken = default);

    /// <summary>
    /// Drops the key from L1, L2 and every other node's L1 without touching the store: for when the database changed
    /// behind the cache's back.
    /// </summary>
    ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>Waits until every write-back write accepted before the call has reached the store or a dead letter.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Write-back writes the store kept rejecting, with their last error; they block nothing else.</summary>
    IReadOnlyList<WriteBackDeadLetter<TKey, TValue>> GetDeadLetters();

    /// <summary>Queues dead-lettered writes again with fresh attempts; returns how many were queued.</summary>
    ValueTask<int> RetryDeadLettersAsync(CancellationToken cancellationToken = default);

    /// <summary>Drops dead-lettered writes for good (and from the journal); returns how many were dropped.</summary>
    ValueTask<int> DiscardDeadLettersAsync(CancellationToken cancellationToken = default);

    /// <summary>Counters since the cache was created: hit ratio, evictions, write-back depth and lag, and more.</summary>
    CacheStatistics GetStatistics();
}
