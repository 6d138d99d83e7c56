namespace BuildingBlocks.Caching;

/// <summary>
/// The database behind a cache: the source of truth the cache loads from and writes to. Implement it over your own
/// tables; the cache decides when it is called (see <see cref="WriteStrategy"/>).
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// Writes must be idempotent upserts and deletes: after a crash the write-back journal replays writes the store may
/// already hold, and a retried batch may repeat entries that were applied before the failure.
/// </remarks>
public interface IBackingStore<TKey, TValue>
    where TKey : notnull
{
    /// <summary>Loads one key.</summary>
    ValueTask<LoadResult<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken);

    /// <summary>Loads several keys in one call; keys the store does not have are left out of the result.</summary>
    ValueTask<IReadOnlyDictionary<TKey, TValue>> LoadManyAsync(IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken);

    /// <summary>Saves (inserts or replaces) a batch of values, ideally in one transaction.</summary>
    ValueTask SaveAsync(IReadOnlyList<KeyValuePair<TKey, TValue>> entries, CancellationToken cancellationToken);

    /// <summary>Deletes a batch of keys; keys that do not exist are not an error.</summary>
    ValueTask DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken);
}
