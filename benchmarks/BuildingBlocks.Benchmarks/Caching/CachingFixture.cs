using System.Globalization;
using BuildingBlocks.Caching;

namespace BuildingBlocks.Benchmarks.Caching;

/// <summary>Keys, values and stores shared by the caching benchmarks.</summary>
internal static class CachingFixture
{
    /// <summary>Long enough that nothing expires while BenchmarkDotNet runs one benchmark (every peer gets the same).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    /// <summary><c>key:000000</c>, <c>key:000001</c>, …: short ASCII keys as an application would use.</summary>
    public static string[] StringKeys(int count)
    {
        var keys = new string[count];
        for (int i = 0; i < count; i++)
        {
            keys[i] = "key:" + i.ToString("D6", CultureInfo.InvariantCulture);
        }

        return keys;
    }

    /// <summary>A value per key (the value the store returns and every peer caches).</summary>
    public static string ValueFor(string key) => "value of " + key;

    /// <summary>0..count-1 in a seeded random order.</summary>
    public static int[] ShuffledKeys(int count, int seed)
    {
        int[] keys = new int[count];
        for (int i = 0; i < count; i++)
        {
            keys[i] = i;
        }

        new Random(seed).Shuffle(keys);
        return keys;
    }
}

/// <summary>
/// The store behind the benchmarked caches: loads answer synchronously with <see cref="CachingFixture.ValueFor"/>,
/// writes do nothing but count the keys, so the figures are the cache's own cost.
/// </summary>
internal sealed class NoOpStore<TKey, TValue>(Func<TKey, TValue> load) : IBackingStore<TKey, TValue>
    where TKey : notnull
{
    private long _written;

    public long Written => Interlocked.Read(ref _written);

    public ValueTask<LoadResult<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken) =>
        new(LoadResult<TValue>.Found(load(key)));

    public ValueTask<IReadOnlyDictionary<TKey, TValue>> LoadManyAsync(IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken) =>
        new(keys.ToDictionary(k => k, load));

    public ValueTask SaveAsync(IReadOnlyList<KeyValuePair<TKey, TValue>> entries, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _written, entries.Count);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _written, keys.Count);
        return ValueTask.CompletedTask;
    }
}
