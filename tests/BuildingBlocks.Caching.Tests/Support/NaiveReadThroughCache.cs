using System.Collections.Concurrent;

namespace BuildingBlocks.Caching.Tests.Support;

/// <summary>
/// The read-through cache people write by hand: check a dictionary, load on a miss, put what was loaded. Writes go to
/// the store, then to the dictionary. It has the stale-repopulation race that <see cref="Cache{TKey,TValue}"/> closes:
/// a load that read the old value before a write finishes after the write and puts the old value back, where it
/// stays until it expires. The tests run both under the same interleaving.
/// </summary>
public sealed class NaiveReadThroughCache<TKey, TValue>(IBackingStore<TKey, TValue> store)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _entries = new();

    public bool TryGet(TKey key, out TValue value) => _entries.TryGetValue(key, out value!);

    public async ValueTask<TValue?> GetOrLoadAsync(TKey key)
    {
        if (_entries.TryGetValue(key, out TValue? cached))
        {
            return cached;
        }

        LoadResult<TValue> loaded = await store.LoadAsync(key, CancellationToken.None);
        if (!loaded.HasValue)
        {
            return default;
        }

        _entries[key] = loaded.Value;
        return loaded.Value;
    }

    public async ValueTask SetAsync(TKey key, TValue value)
    {
        await store.SaveAsync([new KeyValuePair<TKey, TValue>(key, value)], CancellationToken.None);
        _entries[key] = value;
    }

    public async ValueTask SetAroundAsync(TKey key, TValue value)
    {
        await store.SaveAsync([new KeyValuePair<TKey, TValue>(key, value)], CancellationToken.None);
        _entries.TryRemove(key, out _);
    }

    public void Invalidate(TKey key) => _entries.TryRemove(key, out _);
}
