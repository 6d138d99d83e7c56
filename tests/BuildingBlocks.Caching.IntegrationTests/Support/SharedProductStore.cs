using System.Collections.Concurrent;

namespace BuildingBlocks.Caching.IntegrationTests.Support;

/// <summary>
/// The one database both nodes share: a thread-safe in-memory table with counters of what the caches asked of it. An
/// optional random delay in loads widens the window between a load reading a value and the load's result being cached,
/// where a concurrent write on the other node must not let the older value win.
/// </summary>
public sealed class SharedProductStore : IBackingStore<int, Product>
{
    private readonly ConcurrentDictionary<int, Product> _rows = new();
    private readonly ConcurrentDictionary<int, int> _loadsByKey = new();
    private long _loads;
    private long _saves;
    private LoadHold? _hold;

    /// <summary>Up to this long, at random, between reading a row and returning it.</summary>
    public TimeSpan MaxLoadDelay { get; set; }

    public long Loads => Interlocked.Read(ref _loads);

    public long Saves => Interlocked.Read(ref _saves);

    public int LoadsOf(int key) => _loadsByKey.GetValueOrDefault(key);

    /// <summary>Puts a row in without any cache (seeding, or a change behind the caches' back).</summary>
    public void Put(Product product) => _rows[product.Id] = product;

    public Product? Get(int key) => _rows.GetValueOrDefault(key);

    /// <summary>
    /// The next single-key load reads its row, signals <see cref="LoadHold.Read"/> and waits for
    /// <see cref="LoadHold.Release"/> before it returns what it read.
    /// </summary>
    public LoadHold HoldNextLoad()
    {
        var hold = new LoadHold();
        Assert.Null(Interlocked.CompareExchange(ref _hold, hold, null));
        return hold;
    }

    public async ValueTask<LoadResult<Product>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        _loadsByKey.AddOrUpdate(key, 1, static (_, n) => n + 1);
        bool found = _rows.TryGetValue(key, out Product? product);
        if (Interlocked.Exchange(ref _hold, null) is { } hold)
        {
            hold.SignalRead();
            await hold.Released.WaitAsync(cancellationToken);
        }

        await DelayAsync(cancellationToken);
        return found ? LoadResult<Product>.Found(product!) : LoadResult<Product>.NotFound;
    }

    public async ValueTask<IReadOnlyDictionary<int, Product>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        var result = new Dictionary<int, Product>();
        foreach (int key in keys)
        {
            _loadsByKey.AddOrUpdate(key, 1, static (_, n) => n + 1);
            if (_rows.TryGetValue(key, out Product? product))
            {
                result[key] = product;
            }
        }

        await DelayAsync(cancellationToken);
        return result;
    }

    public ValueTask SaveAsync(IReadOnlyList<KeyValuePair<int, Product>> entries, CancellationToken cancellationToken)
    {
        foreach ((int key, Product product) in entries)
        {
            _rows[key] = product;
            Interlocked.Increment(ref _saves);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(IReadOnlyList<int> keys, CancellationToken cancellationToken)
    {
        foreach (int key in keys)
        {
            _rows.TryRemove(key, out _);
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask DelayAsync(CancellationToken cancellationToken)
    {
        if (MaxLoadDelay > TimeSpan.Zero)
        {
            await Task.Delay(TimeSpan.FromTicks(Random.Shared.NextInt64(MaxLoadDelay.Ticks + 1)), cancellationToken);
        }
    }
}

/// <summary>A load held between reading the store and returning (see <see cref="SharedProductStore.HoldNextLoad"/>).</summary>
public sealed class LoadHold
{
    private readonly TaskCompletionSource _read = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the held load has read its row.</summary>
    public Task Read => _read.Task;

    internal Task Released => _released.Task;

    public void Release() => _released.TrySetResult();

    internal void SignalRead() => _read.TrySetResult();
}
