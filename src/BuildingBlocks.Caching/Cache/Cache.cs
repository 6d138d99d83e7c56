using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BitFaster.Caching;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using BitFaster.Caching.Scheduler;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildingBlocks.Caching;

/// <summary>
/// A typed cache in front of an <see cref="IBackingStore{TKey,TValue}"/>: L1 (BitFaster.Caching, W-TinyLFU or LRU),
/// optional L2 (<see cref="IDistributedCache"/>), optional cross-node invalidation (<see cref="ICacheBackplane"/>) and
/// the write strategies of <see cref="WriteStrategy"/>. Works without DI; call <see cref="StartAsync"/> before use
/// when a backplane or a write-back journal is configured (the DI host does it).
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class Cache<TKey, TValue> : ICache<TKey, TValue>, IAsyncDisposable, IDisposable, IManagedCache
    where TKey : notnull
{
    private readonly IBackingStore<TKey, TValue> _store;
    private readonly CacheOptions<TKey, TValue> _options;
    private readonly CacheClock _clock;
    private readonly ILogger _logger;
    private readonly CacheTelemetry _telemetry;
    private readonly ConcurrentLfu<TKey, CacheEntry<TValue>>? _lfu;
    private readonly ConcurrentLru<TKey, CacheEntry<TValue>>? _lru;
    private readonly ConcurrentDictionary<TKey, LoadOperation<TValue>> _loads;
    private readonly KeyLocks<TKey> _writeLocks;
    private readonly Lock[] _writeBackLocks;
    private readonly IEqualityComparer<TKey> _comparer;
    private readonly DistributedLayer<TKey, TValue>? _l2;
    private readonly WriteBackBuffer<TKey, TValue> _writeBack;
    private readonly ICacheBackplane? _backplane;
    private readonly ICacheSerializer<TValue> _serializer;
    private readonly JsonTypeInfo<TKey> _keyTypeInfo;
    private readonly Guid _nodeId = Guid.NewGuid();
    private readonly ConcurrentDictionary<Guid, long> _lastSequenceBySource = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _publishGate = new();
    private readonly ConcurrentDictionary<TKey, long> _recentL2Populations;
    private readonly ConcurrentDictionary<TKey, WriteInFlight> _writesInFlight;
    private readonly bool _coarseClock;
    private volatile bool _acceptingWriteBack = true;
    private readonly long _expirationMs;
    private readonly long _jitterMs;
    private readonly long _slidingMs;
    private IAsyncDisposable? _subscription;
    private long _sequence;
    private int _heartbeatRunning;
    private int _started;
    private int _stopped;
    private long _expiredReads;
    private long _pendingHits;
    private long _l2Hits;
    private long _storeLoads;
    private long _storeLoadFailures;
    private long _evictions;
    private long _evictedBeforeReuse;
    private long _directStoreWrites;
    private long _invalidationsSent;
    private long _invalidationsReceived;
    private long _revalidations;
    private long _backplaneFailures;

    /// <summary>Creates a cache. Options are validated here; an invalid option throws naming the option.</summary>
    /// <param name="store">The backing store.</param>
    /// <param name="options">The options; defaults when null.</param>
    /// <param name="distributedCache">L2; none when null or when <see cref="CacheOptions{TKey,TValue}.UseDistributedCache"/> is false.</param>
    /// <param name="backplane">Cross-node invalidation; none when null.</param>
    /// <param name="timeProvider">The clock; the system clock when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="meterFactory">Metrics; none when null.</param>
    public Cache(
        IBackingStore<TKey, TValue> store,
        CacheOptions<TKey, TValue>? options = null,
        IDistributedCache? distributedCache = null,
        ICacheBackplane? backplane = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _options = options ?? new CacheOptions<TKey, TValue>();
        CacheOptionsValidator<TKey, TValue>.ThrowIfInvalid(_options);
        _store = store;
        Name = _options.Name ?? typeof(TValue).Name;
        _clock = new CacheClock(timeProvider ?? TimeProvider.System);
        _coarseClock = _clock.IsCoarse;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("BuildingBlocks.Caching.Cache");
        _comparer = _options.KeyComparer ?? EqualityComparer<TKey>.Default;
        _loads = new ConcurrentDictionary<TKey, LoadOperation<TValue>>(_comparer);
        _recentL2Populations = new ConcurrentDictionary<TKey, long>(_comparer);
        _writesInFlight = new ConcurrentDictionary<TKey, WriteInFlight>(_comparer);
        _writeLocks = new KeyLocks<TKey>(_comparer);
        _writeBackLocks = new Lock[64];
        for (int i = 0; i < _writeBackLocks.Length; i++)
        {
            _writeBackLocks[i] = new Lock();
        }

        _expirationMs = (long)_options.Expiration.TotalMilliseconds;
        _jitterMs = (long)(_options.ExpirationJitter ?? _options.Expiration / 10).TotalMilliseconds;
        _slidingMs = (long)(_options.SlidingExpiration ?? TimeSpan.Zero).TotalMilliseconds;

        JsonSerializerOptions json = CachingJson.ReadOnly(_options.JsonOptions);
        _keyTypeInfo = CachingJson.TypeInfo<TKey>(json);
        _serializer = _options.ValueSerializer ?? new JsonCacheSerializer<TValue>(json);

        int concurrency = Math.Max(Environment.ProcessorCount, 2);
        ICacheEvents<TKey, CacheEntry<TValue>>? events;
        if (_options.Eviction == EvictionPolicy.Lru)
        {
            _lru = new ConcurrentLru<TKey, CacheEntry<TValue>>(concurrency, _options.L1Capacity, _comparer);
            events = _lru.Events.Value;
        }
        else
        {
            _lfu = new ConcurrentLfu<TKey, CacheEntry<TValue>>(concurrency, _options.L1Capacity, new ThreadPoolScheduler(), _comparer);
            events = _lfu.Events.Value;
        }

        if (events is not null)
        {
            events.ItemRemoved += OnL1ItemRemoved;
        }

        _telemetry = new CacheTelemetry(meterFactory, Name, () => _writeBack!.Count, () => _writeBack!.Lag.TotalSeconds, () => L1Count);
        if (distributedCache is not null && _options.UseDistributedCache)
        {
            _l2 = new DistributedLayer<TKey, TValue>(distributedCache, _options, Name, _serializer, _options.KeyFormatter ?? FormatKey, _clock, _telemetry, _logger);
        }

        _backplane = backplane;
        _writeBack = new WriteBackBuffer<TKey, TValue>(
            store, _options.WriteBackOptions, _comparer, _clock, Name, _telemetry, _logger, OnWriteDeadLettered, AfterWriteBackFlushAsync);
    }

    /// <inheritdoc />
    public string Name { get; }

    private int L1Count => _lfu?.Count ?? _lru!.Count;

    /// <summary>
    /// Subscribes to the backplane and replays the write-back journal. Safe to call more than once; the DI host calls it.
    /// </summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        if (_backplane is not null)
        {
            _subscription = await _backplane.SubscribeAsync(new Subscriber(this), cancellationToken).ConfigureAwait(false);
        }

        if (_options.WriteBackOptions.Journal is { } journal)
        {
            await ReplayJournalAsync(journal, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Flushes write-back writes (up to <see cref="WriteBackOptions.ShutdownTimeout"/>) and leaves the backplane.</summary>
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        // Under every stripe lock: a write-back write either got in before (and is flushed now) or is refused.
        foreach (Lock stripe in _writeBackLocks)
        {
            stripe.Enter();
        }

        _acceptingWriteBack = false;
        foreach (Lock stripe in _writeBackLocks)
        {
            stripe.Exit();
        }

        await _writeBack.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync().ConfigureAwait(false);
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _writeBack.DisposeAsync().ConfigureAwait(false);
        _telemetry.Dispose();
        _disposing.Dispose();
    }

    /// <summary>
    /// Disposes synchronously (for containers disposed without await): flushes write-back writes like
    /// <see cref="DisposeAsync"/>, blocking the calling thread meanwhile.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public bool TryGetLocal(TKey key, out TValue value)
    {
        ThrowIfNullKey(key);
        if (TryReadL1(key, out CacheEntry<TValue>? entry))
        {
            value = entry.Value;
            return true;
        }

        if (TryReadPending(key, out PendingWrite<TKey, TValue>? pending) && !pending.IsDelete)
        {
            value = pending.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <inheritdoc />
    public async ValueTask<LoadResult<TValue>> GetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        ThrowIfNullKey(key);
        if (TryReadL1(key, out CacheEntry<TValue>? entry))
        {
            return LoadResult<TValue>.Found(entry.Value);
        }

        if (TryReadPending(key, out PendingWrite<TKey, TValue>? pending))
        {
            return pending.IsDelete ? LoadResult<TValue>.NotFound : LoadResult<TValue>.Found(pending.Value);
        }

        if (_l2 is not null)
        {
            (bool found, TValue value, _) = await _l2.TryGetAsync(key, cancellationToken).ConfigureAwait(false);
            if (found)
            {
                Interlocked.Increment(ref _l2Hits);
                _telemetry.L2Hit();
                return LoadResult<TValue>.Found(value);
            }
        }

        _telemetry.Miss();
        return LoadResult<TValue>.NotFound;
    }

    /// <inheritdoc />
    public ValueTask<TValue?> GetOrLoadAsync(TKey key, CancellationToken cancellationToken = default)
    {
        // The hit path: one L1 lookup, one clock read, no allocation.
        if (key is null)
        {
            ThrowNullKey();
        }

        CacheEntry<TValue>? entry;
        if (_lfu is not null ? _lfu.TryGet(key, out entry) : _lru!.TryGet(key, out entry))
        {
            if (entry!.TryRead(_coarseClock ? CacheClock.CoarseNowMs : _clock.NowMs))
            {
                _telemetry.L1Hit();
                return new ValueTask<TValue?>(entry.Value);
            }

            return GetOrLoadSlowAsync(key, entry, cancellationToken);
        }

        return GetOrLoadSlowAsync(key, null, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<TKey, TValue>> GetManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var result = new Dictionary<TKey, TValue>(_comparer);
        var seen = new HashSet<TKey>(_comparer);
        List<(TKey Key, Task<LoadResult<TValue>> Load)>? waits = null;
        List<(TKey Key, LoadOperation<TValue> Operation)>? mine = null;
        foreach (TKey key in keys)
        {
            ThrowIfNullKey(key);
            if (!seen.Add(key))
            {
                continue;
            }

            if (TryReadL1(key, out CacheEntry<TValue>? entry))
            {
                result[key] = entry.Value;
                continue;
            }

            if (TryReadPending(key, out PendingWrite<TKey, TValue>? pending))
            {
                if (!pending.IsDelete)
                {
                    result[key] = pending.Value;
                }

                continue;
            }

            while (true)
            {
                if (_loads.TryGetValue(key, out LoadOperation<TValue>? running))
                {
                    (waits ??= []).Add((key, running.Completion.Task));
                    break;
                }

                var operation = new LoadOperation<TValue>();
                if (_loads.TryAdd(key, operation))
                {
                    (mine ??= []).Add((key, operation));
                    (waits ??= []).Add((key, operation.Completion.Task));
                    break;
                }
            }
        }

        if (mine is not null)
        {
            _ = RunLoadManyAsync(mine);
        }

        if (waits is not null)
        {
            foreach ((TKey key, Task<LoadResult<TValue>> load) in waits)
            {
                LoadResult<TValue> loaded = await load.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (loaded.HasValue)
                {
                    result[key] = loaded.Value;
                }
            }
        }

        return result;
    }

    /// <inheritdoc />
    public ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken = default)
    {
        ThrowIfNullKey(key);
        WriteStrategy strategy = _options.StrategyPolicy?.Invoke(key, value) ?? _options.Strategy;
        return SetAsync(key, value, strategy, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask SetAsync(TKey key, TValue value, WriteStrategy strategy, CancellationToken cancellationToken = default)
    {
        ThrowIfNullKey(key);
        if (value is null)
        {
            throw new ArgumentNullException(nameof(value), $"Cache '{Name}': a null value cannot be cached; call RemoveAsync to delete key '{key}'.");
        }

        return strategy switch
        {
            WriteStrategy.WriteThrough => WriteToStoreAsync(key, value, isDelete: false, strategy, cancellationToken),
            WriteStrategy.WriteAround => WriteToStoreAsync(key, value, isDelete: false, strategy, cancellationToken),
            WriteStrategy.WriteBack => WriteBackAsync(key, value, isDelete: false, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Use WriteThrough, WriteAround or WriteBack."),
        };
    }

    /// <inheritdoc />
    public ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken = default) => RemoveAsync(key, _options.Strategy, cancellationToken);

    /// <inheritdoc />
    public ValueTask RemoveAsync(TKey key, WriteStrategy strategy, CancellationToken cancellationToken = default)
    {
        ThrowIfNullKey(key);
        return strategy switch
        {
            WriteStrategy.WriteThrough or WriteStrategy.WriteAround => WriteToStoreAsync(key, default!, isDelete: true, WriteStrategy.WriteAround, cancellationToken),
            WriteStrategy.WriteBack => WriteBackAsync(key, default!, isDelete: true, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Use WriteThrough, WriteAround or WriteBack."),
        };
    }

    /// <inheritdoc />
    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken = default)
    {
        ThrowIfNullKey(key);
        long version = _clock.NextVersion();
        InvalidateLocal(key);
        bool l2Updated = _l2 is null || await _l2.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        await PublishAsync(l2Updated ? BackplaneMessageKind.Invalidate : BackplaneMessageKind.InvalidateIncludingDistributed, key, version, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => _writeBack.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public IReadOnlyList<WriteBackDeadLetter<TKey, TValue>> GetDeadLetters() => _writeBack.GetDeadLetters();

    /// <inheritdoc />
    public ValueTask<int> RetryDeadLettersAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_writeBack.RetryDeadLetters());

    /// <inheritdoc />
    public ValueTask<int> DiscardDeadLettersAsync(CancellationToken cancellationToken = default) => _writeBack.DiscardDeadLettersAsync(cancellationToken);

    /// <inheritdoc />
    public CacheStatistics GetStatistics()
    {
        // W-TinyLFU counts hits when it drains its read buffers: drain them so the figures are current.
        _lfu?.DoMaintenance();
        ICacheMetrics? metrics = _lfu is not null ? _lfu.Metrics.Value : _lru!.Metrics.Value;
        long expired = Interlocked.Read(ref _expiredReads);
        long pendingHits = Interlocked.Read(ref _pendingHits);
        long hits = (metrics?.Hits ?? 0) - expired + pendingHits;
        long misses = (metrics?.Misses ?? 0) + expired - pendingHits;
        return new CacheStatistics
        {
            Hits = Math.Max(0, hits),
            Misses = Math.Max(0, misses),
            L2Hits = Interlocked.Read(ref _l2Hits),
            StoreLoads = Interlocked.Read(ref _storeLoads),
            StoreLoadFailures = Interlocked.Read(ref _storeLoadFailures),
            L1Count = L1Count,
            Evictions = Interlocked.Read(ref _evictions),
            EvictedBeforeReuse = Interlocked.Read(ref _evictedBeforeReuse),
            StoreWrites = Interlocked.Read(ref _directStoreWrites) + _writeBack.StoreWrites,
            CoalescedWrites = _writeBack.Coalesced,
            PendingWrites = _writeBack.Count,
            WriteBackLag = _writeBack.Lag,
            FlushFailures = _writeBack.FlushFailures,
            DeadLetters = _writeBack.DeadLetterCount,
            InvalidationsSent = Interlocked.Read(ref _invalidationsSent),
            InvalidationsReceived = Interlocked.Read(ref _invalidationsReceived),
            Revalidations = Interlocked.Read(ref _revalidations),
            DistributedFailures = (_l2?.Failures ?? 0) + Interlocked.Read(ref _backplaneFailures),
        };
    }

    /// <summary>Runs the L1 engine's pending maintenance now (tests and analysis; it otherwise runs in the background).</summary>
    internal void DoL1Maintenance() => _lfu?.DoMaintenance();

    private static void ThrowIfNullKey(TKey key)
    {
        if (key is null)
        {
            ThrowNullKey();
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNullKey() => throw new ArgumentNullException("key", "Cache keys cannot be null.");

    private bool TryReadL1(TKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CacheEntry<TValue>? entry)
    {
        bool found = _lfu is not null ? _lfu.TryGet(key, out entry) : _lru!.TryGet(key, out entry);
        if (!found)
        {
            return false;
        }

        if (entry!.TryRead(_clock.NowMs))
        {
            _telemetry.L1Hit();
            return true;
        }

        Expire(key, entry);
        entry = null;
        return false;
    }

    private bool TryReadPending(TKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PendingWrite<TKey, TValue>? pending)
    {
        if (_writeBack.Count > 0 && _writeBack.TryGetPending(key, out pending))
        {
            Interlocked.Increment(ref _pendingHits);
            return true;
        }

        pending = null;
        return false;
    }

    private void Expire(TKey key, CacheEntry<TValue> entry)
    {
        Interlocked.Increment(ref _expiredReads);
        _ = _lfu is not null
            ? _lfu.TryRemove(new KeyValuePair<TKey, CacheEntry<TValue>>(key, entry))
            : _lru!.TryRemove(new KeyValuePair<TKey, CacheEntry<TValue>>(key, entry));
    }

    private async ValueTask<TValue?> GetOrLoadSlowAsync(TKey key, CacheEntry<TValue>? expired, CancellationToken cancellationToken)
    {
        if (expired is not null)
        {
            Expire(key, expired);
        }

        if (TryReadPending(key, out PendingWrite<TKey, TValue>? pending))
        {
            return pending.IsDelete ? default : pending.Value;
        }

        while (true)
        {
            if (_loads.TryGetValue(key, out LoadOperation<TValue>? running))
            {
                LoadResult<TValue> shared = await running.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return shared.HasValue ? shared.Value : default;
            }

            var operation = new LoadOperation<TValue>();
            if (_loads.TryAdd(key, operation))
            {
                _ = RunLoadAsync(key, operation);
                LoadResult<TValue> loaded = await operation.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return loaded.HasValue ? loaded.Value : default;
            }
        }
    }

    private async Task RunLoadAsync(TKey key, LoadOperation<TValue> operation)
    {
        // Taken before anything is read: a write after this point has a newer version than what the load returns.
        long version = _clock.NextVersion();
        try
        {
            LoadResult<TValue> result = default;
            bool fromL2 = false;
            if (_l2 is not null)
            {
                (bool found, TValue value, long l2Version) = await _l2.TryGetAsync(key, _disposing.Token).ConfigureAwait(false);
                if (found)
                {
                    result = LoadResult<TValue>.Found(value);
                    version = l2Version;
                    fromL2 = true;
                    Interlocked.Increment(ref _l2Hits);
                    _telemetry.L2Hit();
                }
            }

            if (!fromL2)
            {
                _telemetry.Miss();
                result = await LoadFromStoreAsync(key).ConfigureAwait(false);
                if (result.HasValue && _l2 is not null)
                {
                    RememberL2Population(key);
                    _ = await _l2.SetAsync(key, result.Value, version, _disposing.Token).ConfigureAwait(false);
                    if (operation.IsInvalidated)
                    {
                        // A write on this node overtook the load after it read the store: what it just put in L2 may be old.
                        _ = await _l2.RemoveAsync(key, _disposing.Token).ConfigureAwait(false);
                    }
                }
            }

            if (result.HasValue && !_writeBack.IsPending(key))
            {
                operation.TryPublish(static s => s.Cache.SetL1(s.Key, s.Value, s.Version, loaded: true), (Cache: this, Key: key, Value: result.Value, Version: version));
            }

            _loads.TryRemove(new KeyValuePair<TKey, LoadOperation<TValue>>(key, operation));
            operation.Completion.TrySetResult(result);
        }
        catch (Exception exception)
        {
            _loads.TryRemove(new KeyValuePair<TKey, LoadOperation<TValue>>(key, operation));
            operation.Completion.TrySetException(exception);
        }
    }

    private async Task RunLoadManyAsync(List<(TKey Key, LoadOperation<TValue> Operation)> operations)
    {
        long version = _clock.NextVersion();
        var remaining = new List<(TKey Key, LoadOperation<TValue> Operation)>(operations.Count);
        try
        {
            foreach ((TKey key, LoadOperation<TValue> operation) in operations)
            {
                if (_l2 is not null)
                {
                    (bool found, TValue value, long l2Version) = await _l2.TryGetAsync(key, _disposing.Token).ConfigureAwait(false);
                    if (found)
                    {
                        Interlocked.Increment(ref _l2Hits);
                        _telemetry.L2Hit();
                        Complete(key, operation, LoadResult<TValue>.Found(value), l2Version);
                        continue;
                    }
                }

                _telemetry.Miss();
                remaining.Add((key, operation));
            }

            if (remaining.Count == 0)
            {
                return;
            }

            IReadOnlyDictionary<TKey, TValue> loaded = await LoadManyFromStoreAsync([.. remaining.Select(r => r.Key)]).ConfigureAwait(false);
            foreach ((TKey key, LoadOperation<TValue> operation) in remaining)
            {
                if (loaded.TryGetValue(key, out TValue? value))
                {
                    if (_l2 is not null)
                    {
                        RememberL2Population(key);
                        _ = await _l2.SetAsync(key, value, version, _disposing.Token).ConfigureAwait(false);
                        if (operation.IsInvalidated)
                        {
                            _ = await _l2.RemoveAsync(key, _disposing.Token).ConfigureAwait(false);
                        }
                    }

                    Complete(key, operation, LoadResult<TValue>.Found(value), version);
                }
                else
                {
                    Complete(key, operation, LoadResult<TValue>.NotFound, version);
                }
            }
        }
        catch (Exception exception)
        {
            foreach ((TKey key, LoadOperation<TValue> operation) in remaining)
            {
                _loads.TryRemove(new KeyValuePair<TKey, LoadOperation<TValue>>(key, operation));
                operation.Completion.TrySetException(exception);
            }
        }

        void Complete(TKey key, LoadOperation<TValue> operation, LoadResult<TValue> result, long entryVersion)
        {
            if (result.HasValue && !_writeBack.IsPending(key))
            {
                operation.TryPublish(static s => s.Cache.SetL1(s.Key, s.Value, s.Version, loaded: true), (Cache: this, Key: key, Value: result.Value, Version: entryVersion));
            }

            _loads.TryRemove(new KeyValuePair<TKey, LoadOperation<TValue>>(key, operation));
            operation.Completion.TrySetResult(result);
        }
    }

    private async ValueTask<LoadResult<TValue>> LoadFromStoreAsync(TKey key)
    {
        Interlocked.Increment(ref _storeLoads);
        using Activity? activity = CachingDiagnostics.ActivitySource.StartActivity(CachingDiagnostics.LoadActivity, ActivityKind.Client);
        activity?.SetTag(CachingDiagnostics.CacheTag, Name);
        long started = _clock.Time.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
            timeout.CancelAfter(_options.LoadTimeout);
            LoadResult<TValue> result = await _store.LoadAsync(key, timeout.Token).AsTask()
                .WaitAsync(_options.LoadTimeout, _clock.Time, _disposing.Token).ConfigureAwait(false);
            _telemetry.Loaded(_clock.Time.GetElapsedTime(started), failed: false);
            return result;
        }
        catch (Exception exception)
        {
            throw LoadFailed(exception, key.ToString() ?? string.Empty, started, activity);
        }
    }

    private async ValueTask<IReadOnlyDictionary<TKey, TValue>> LoadManyFromStoreAsync(IReadOnlyCollection<TKey> keys)
    {
        Interlocked.Increment(ref _storeLoads);
        using Activity? activity = CachingDiagnostics.ActivitySource.StartActivity(CachingDiagnostics.LoadActivity, ActivityKind.Client);
        activity?.SetTag(CachingDiagnostics.CacheTag, Name);
        long started = _clock.Time.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
            timeout.CancelAfter(_options.LoadTimeout);
            IReadOnlyDictionary<TKey, TValue> result = await _store.LoadManyAsync(keys, timeout.Token).AsTask()
                .WaitAsync(_options.LoadTimeout, _clock.Time, _disposing.Token).ConfigureAwait(false);
            _telemetry.Loaded(_clock.Time.GetElapsedTime(started), failed: false);
            return result ?? throw new InvalidOperationException("LoadManyAsync returned null; return an empty dictionary when no key is found.");
        }
        catch (Exception exception)
        {
            throw LoadFailed(exception, $"{keys.Count} keys", started, activity);
        }
    }

    private CacheStoreException LoadFailed(Exception exception, string key, long started, Activity? activity)
    {
        Interlocked.Increment(ref _storeLoadFailures);
        _telemetry.Loaded(_clock.Time.GetElapsedTime(started), failed: true);
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        Log.LoadFailed(_logger, exception, Name, key);
        string why = exception is TimeoutException
            ? $"the store did not answer within LoadTimeout ({_options.LoadTimeout})"
            : $"the store threw {exception.GetType().Name}: {exception.Message}";
        return new CacheStoreException($"Cache '{Name}': loading '{key}' failed: {why}. Nothing was cached.", exception);
    }

    private ValueTask WriteBackAsync(TKey key, TValue value, bool isDelete, CancellationToken cancellationToken)
    {
        ValueTask reserved = _writeBack.ReserveAsync(key, cancellationToken);
        if (!reserved.IsCompletedSuccessfully || _writeBack.Journal is not null)
        {
            return WriteBackSlowAsync(reserved, key, value, isDelete);
        }

        ApplyWriteBack(key, value, isDelete, version: null, journalKey: null);
        return ValueTask.CompletedTask;
    }

    private async ValueTask WriteBackSlowAsync(ValueTask reserved, TKey key, TValue value, bool isDelete)
    {
        await reserved.ConfigureAwait(false);
        long version = _clock.NextVersion();
        byte[]? journalKey = null;
        if (_writeBack.Journal is { } journal)
        {
            journalKey = SerializeKey(key);
            byte[]? valueBytes = isDelete ? null : SerializeValue(key, value);

            // Not cancellable once started: a write journaled but not applied would come back only after a crash.
            await journal.AppendAsync(new JournalEntry(Name, journalKey, valueBytes, version), CancellationToken.None).ConfigureAwait(false);
        }

        ApplyWriteBack(key, value, isDelete, version, journalKey);
    }

    private void ApplyWriteBack(TKey key, TValue value, bool isDelete, long? version, byte[]? journalKey)
    {
        // One lock per key stripe: two writers of one key must leave L1 and the buffer holding the same (newest) write.
        // Without a journal the version is taken inside it, so the lock order is the version order.
        lock (_writeBackLocks[(int)((uint)_comparer.GetHashCode(key) % (uint)_writeBackLocks.Length)])
        {
            if (!_acceptingWriteBack)
            {
                throw new InvalidOperationException($"Cache '{Name}' is stopping: its write-back flusher no longer takes writes, so this write was not accepted.");
            }

            long stamped = version ?? _clock.NextVersion();
            if (!_writeBack.Accept(key, value, isDelete, stamped, journalKey))
            {
                return;
            }

            InvalidateLoads(key);
            if (isDelete)
            {
                RemoveL1(key);
            }
            else
            {
                SetL1(key, value, stamped);
            }
        }
    }

    private async ValueTask WriteToStoreAsync(TKey key, TValue value, bool isDelete, WriteStrategy strategy, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate = _writeLocks.For(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var flight = new WriteInFlight();
        try
        {
            if (_writeBack.IsPending(key))
            {
                // A write-back write of this key is waiting: it must reach the store first, or it would overwrite this one later.
                await _writeBack.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            long version = _clock.NextVersion();
            InvalidateLocal(key);

            // Another node's invalidation of this key arriving while the store is being written may mean its write
            // landed after this one: then this node must not cache its own (older) value.
            _writesInFlight[key] = flight;
            try
            {
                await StoreWriteAsync(key, value, isDelete, strategy).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // The store may or may not have applied it: every layer forgets the key so the next read loads the truth.
                Log.StoreWriteFailed(_logger, exception, Name, key.ToString() ?? string.Empty, CacheTelemetry.StrategyName(strategy));
                InvalidateLocal(key);
                bool l2Removed = _l2 is null || await _l2.RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
                await PublishAsync(l2Removed ? BackplaneMessageKind.Invalidate : BackplaneMessageKind.InvalidateIncludingDistributed, key, version, CancellationToken.None).ConfigureAwait(false);
                string why = exception is TimeoutException
                    ? $"the store did not answer within StoreWriteTimeout ({_options.StoreWriteTimeout})"
                    : $"the store threw {exception.GetType().Name}: {exception.Message}";
                throw new CacheStoreException($"Cache '{Name}': the {CacheTelemetry.StrategyName(strategy)} {(isDelete ? "delete" : "write")} of '{key}' failed: {why}. The cache does not keep the new value.", exception);
            }

            Interlocked.Increment(ref _directStoreWrites);
            _telemetry.StoreWrites(1, strategy);

            // A load that started while the store was being written may have read either value: it must not be cached.
            // A write-back write of the key accepted meanwhile is newer: it stays in L1 and reaches the store later.
            bool overtaken;
            lock (_writeBackLocks[(int)((uint)_comparer.GetHashCode(key) % (uint)_writeBackLocks.Length)])
            {
                // Overtaken: a write-back write of the key is waiting, or was accepted (and maybe already flushed)
                // after this write took its version: its L1 entry is newer.
                overtaken = _writeBack.IsPending(key) || L1VersionOf(key) > version || flight.Overtaken;
                InvalidateLoads(key);
                if (!overtaken)
                {
                    if (strategy == WriteStrategy.WriteThrough && !isDelete)
                    {
                        SetL1(key, value, version);
                    }
                    else
                    {
                        RemoveL1(key);
                    }
                }
            }

            // L2 is only ever cleared by writes, never set: two nodes' writes of one key can reach L2 in either order,
            // and a set landing last could leave the older value there for every node. The next load fills L2.
            bool l2Updated = _l2 is null || await _l2.RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);

            // When this node could not update L2, the other nodes take the key out of L2 themselves.
            await PublishAsync(l2Updated ? BackplaneMessageKind.Invalidate : BackplaneMessageKind.InvalidateIncludingDistributed, key, version, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writesInFlight.TryRemove(new KeyValuePair<TKey, WriteInFlight>(key, flight));
            gate.Release();
        }
    }

    private async Task StoreWriteAsync(TKey key, TValue value, bool isDelete, WriteStrategy strategy)
    {
        using Activity? activity = CachingDiagnostics.ActivitySource.StartActivity(CachingDiagnostics.StoreWriteActivity, ActivityKind.Client);
        activity?.SetTag(CachingDiagnostics.CacheTag, Name);
        activity?.SetTag(CachingDiagnostics.StrategyTag, CacheTelemetry.StrategyName(strategy));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
        timeout.CancelAfter(_options.StoreWriteTimeout);
        ValueTask call = isDelete
            ? _store.DeleteAsync([key], timeout.Token)
            : _store.SaveAsync([new KeyValuePair<TKey, TValue>(key, value)], timeout.Token);
        await call.AsTask().WaitAsync(_options.StoreWriteTimeout, _clock.Time, _disposing.Token).ConfigureAwait(false);
    }

    private void SetL1(TKey key, TValue value, long version, bool loaded = false)
    {
        long now = _clock.NowMs;
        long lifetime = _expirationMs + (_jitterMs > 0 ? Random.Shared.NextInt64(_jitterMs + 1) : 0);
        var entry = new CacheEntry<TValue>(value, version, now + lifetime, _slidingMs, now, loaded);
        if (_lfu is not null)
        {
            _lfu.AddOrUpdate(key, entry);
        }
        else
        {
            _lru!.AddOrUpdate(key, entry);
        }
    }

    private long L1VersionOf(TKey key)
    {
        CacheEntry<TValue>? entry;
        bool found = _lfu is not null ? _lfu.TryGet(key, out entry) : _lru!.TryGet(key, out entry);
        return found ? entry!.Version : long.MinValue;
    }

    private void RemoveL1(TKey key)
    {
        _ = _lfu is not null ? _lfu.TryRemove(key) : _lru!.TryRemove(key);
    }

    /// <summary>A load in flight for the key must not cache what it read, and later readers must not join it.</summary>
    private void InvalidateLoads(TKey key)
    {
        if (!_loads.IsEmpty && _loads.TryRemove(key, out LoadOperation<TValue>? operation))
        {
            operation.Invalidate();
        }
    }

    private void InvalidateLocal(TKey key)
    {
        InvalidateLoads(key);
        RemoveL1(key);
    }

    private void ClearLocal()
    {
        foreach (TKey key in _loads.Keys)
        {
            InvalidateLoads(key);
        }

        if (_lfu is not null)
        {
            _lfu.Clear();
        }
        else
        {
            _lru!.Clear();
        }
    }

    private void OnL1ItemRemoved(object? sender, ItemRemovedEventArgs<TKey, CacheEntry<TValue>> removed)
    {
        if (removed.Reason != ItemRemovedReason.Evicted)
        {
            return;
        }

        // A miss that loaded an entry nobody read before it was evicted is wasted work: thrashing.
        bool beforeReuse = removed.Value is { Loaded: true, WasRead: false };
        Interlocked.Increment(ref _evictions);
        if (beforeReuse)
        {
            Interlocked.Increment(ref _evictedBeforeReuse);
        }

        _telemetry.Evicted(beforeReuse);
    }

    private void OnWriteDeadLettered(TKey key)
    {
        // The store refused the value: the cache must not go on serving it as if it were stored.
        lock (_writeBackLocks[(int)((uint)_comparer.GetHashCode(key) % (uint)_writeBackLocks.Length)])
        {
            if (!_writeBack.IsPending(key))
            {
                InvalidateLocal(key);
            }
        }
    }

    private async ValueTask AfterWriteBackFlushAsync(IReadOnlyList<PendingWrite<TKey, TValue>> writes)
    {
        // Other nodes see a write-back write once it is in the store: drop their L1 copies and the L2 copy.
        if (_l2 is null && _backplane is null)
        {
            return;
        }

        foreach (PendingWrite<TKey, TValue> write in writes)
        {
            bool l2Updated = _l2 is null || await _l2.RemoveAsync(write.Key, CancellationToken.None).ConfigureAwait(false);
            await PublishAsync(l2Updated ? BackplaneMessageKind.Invalidate : BackplaneMessageKind.InvalidateIncludingDistributed, write.Key, write.Version, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async ValueTask PublishAsync(BackplaneMessageKind kind, TKey? key, long version, CancellationToken cancellationToken)
    {
        if (_backplane is null)
        {
            return;
        }

        byte[] keyBytes = key is null ? [] : SerializeKey(key);
        try
        {
            await SendInOrder(kind, keyBytes, version, cancellationToken).AsTask()
                .WaitAsync(_options.DistributedTimeout, _clock.Time, cancellationToken).ConfigureAwait(false);
            if (kind == BackplaneMessageKind.Invalidate)
            {
                Interlocked.Increment(ref _invalidationsSent);
                _telemetry.InvalidationSent();
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _backplaneFailures);
            _telemetry.BackplaneFailed();
            Log.BackplanePublishFailed(_logger, exception, Name);
            StartHeartbeats();
        }
    }

    /// <summary>
    /// After a failed publish, other nodes hold stale entries and do not know it. Heartbeats (with backoff) carry the
    /// next sequence number as soon as the backplane works again, so they see the gap and revalidate.
    /// </summary>
    private void StartHeartbeats()
    {
        if (Interlocked.Exchange(ref _heartbeatRunning, 1) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            TimeSpan delay = TimeSpan.FromMilliseconds(100);
            try
            {
                while (!_disposing.IsCancellationRequested)
                {
                    await Task.Delay(delay, _clock.Time, _disposing.Token).ConfigureAwait(false);
                    try
                    {
                        await SendInOrder(BackplaneMessageKind.Heartbeat, ReadOnlyMemory<byte>.Empty, _clock.NextVersion(), _disposing.Token).AsTask()
                            .WaitAsync(_options.DistributedTimeout, _clock.Time, _disposing.Token).ConfigureAwait(false);
                        return;
                    }
                    catch (Exception exception) when (!_disposing.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref _backplaneFailures);
                        _telemetry.BackplaneFailed();
                        Log.BackplanePublishFailed(_logger, exception, Name);
                        delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Volatile.Write(ref _heartbeatRunning, 0);
            }
        });
    }

    /// <summary>
    /// Numbers the message and hands it to the backplane under one lock, so messages leave in sequence order (receivers
    /// read a gap as lost messages). Only the hand-over is inside the lock, not the wait for the send.
    /// </summary>
    private ValueTask SendInOrder(BackplaneMessageKind kind, ReadOnlyMemory<byte> key, long version, CancellationToken cancellationToken)
    {
        lock (_publishGate)
        {
            var message = new BackplaneMessage(_nodeId, ++_sequence, Name, key, version, kind);
            try
            {
                return _backplane!.PublishAsync(message, cancellationToken);
            }
            catch (Exception exception)
            {
                return ValueTask.FromException(exception);
            }
        }
    }

    private void OnBackplaneMessage(BackplaneMessage message)
    {
        if (message.SourceNode == _nodeId || !string.Equals(message.CacheName, Name, StringComparison.Ordinal))
        {
            return;
        }

        // The first message from a node counts too: a node's numbers start at 1, so a first message numbered higher
        // means earlier ones were lost (or this cache subscribed late; revalidating then costs one L1 refill).
        long previous = _lastSequenceBySource.GetValueOrDefault(message.SourceNode, 0);
        _lastSequenceBySource[message.SourceNode] = Math.Max(previous, message.Sequence);
        if (message.Sequence > previous + 1)
        {
            Revalidate(previous == 0
                ? $"the first message from node {message.SourceNode} is number {message.Sequence}"
                : $"node {message.SourceNode} sent message {message.Sequence} after {previous}");
        }

        switch (message.Kind)
        {
            case BackplaneMessageKind.Invalidate:
            case BackplaneMessageKind.InvalidateIncludingDistributed:
                TKey? key;
                try
                {
                    key = JsonSerializer.Deserialize(message.Key.Span, _keyTypeInfo);
                }
                catch (JsonException exception)
                {
                    Revalidate($"an invalidation's key could not be read: {exception.Message}");
                    return;
                }

                if (key is not null)
                {
                    if (!_writesInFlight.IsEmpty && _writesInFlight.TryGetValue(key, out WriteInFlight? inFlight))
                    {
                        inFlight.Overtaken = true;
                    }

                    InvalidateLocal(key);
                    RemoveRecentL2Population(key);
                    if (message.Kind == BackplaneMessageKind.InvalidateIncludingDistributed && _l2 is not null)
                    {
                        _ = _l2.RemoveAsync(key, CancellationToken.None).AsTask();
                    }

                    Interlocked.Increment(ref _invalidationsReceived);
                    _telemetry.InvalidationReceived();
                }

                break;
            case BackplaneMessageKind.Clear:
                ClearLocal();
                Interlocked.Increment(ref _invalidationsReceived);
                _telemetry.InvalidationReceived();
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Remembers that a load of this node put the key in L2. That load may have read the store before another node's
    /// write and written L2 after it; if that node's invalidation arrives after the load finished, only this record
    /// tells this node to take the possibly older value out of L2 again.
    /// </summary>
    private void RememberL2Population(TKey key)
    {
        long now = _clock.NowMs;
        _recentL2Populations[key] = now;
        if (_recentL2Populations.Count > 10_000)
        {
            long cutoff = now - RecentL2WindowMs;
            foreach (KeyValuePair<TKey, long> item in _recentL2Populations)
            {
                if (item.Value < cutoff)
                {
                    _recentL2Populations.TryRemove(item);
                }
            }
        }
    }

    private long RecentL2WindowMs => Math.Max(5_000, 2 * (long)_options.DistributedTimeout.TotalMilliseconds);

    private void RemoveRecentL2Population(TKey key)
    {
        if (_l2 is null || _recentL2Populations.IsEmpty || !_recentL2Populations.TryRemove(key, out long populatedAt))
        {
            return;
        }

        if (_clock.NowMs - populatedAt <= RecentL2WindowMs)
        {
            // Failures are handled (and remembered for repair) inside the layer.
            _ = _l2.RemoveAsync(key, CancellationToken.None).AsTask();
        }
    }

    private void Revalidate(string reason)
    {
        ClearLocal();

        // Loads of this node that put keys in L2 lately may have been overtaken by the writes whose invalidations were
        // lost: take those keys out of L2 too, or every node would go on reading the older values there.
        foreach (TKey key in _recentL2Populations.Keys)
        {
            RemoveRecentL2Population(key);
        }

        Interlocked.Increment(ref _revalidations);
        _telemetry.Revalidated();
        Log.Revalidating(_logger, Name, reason);
    }

    private async ValueTask ReplayJournalAsync(IWriteBackJournal journal, CancellationToken cancellationToken)
    {
        IReadOnlyList<JournalEntry> entries = await journal.ReadAsync(Name, cancellationToken).ConfigureAwait(false);
        int replayed = 0;
        foreach (JournalEntry entry in entries)
        {
            TKey key;
            TValue value = default!;
            try
            {
                key = JsonSerializer.Deserialize(entry.Key, _keyTypeInfo) ?? throw new JsonException("The journaled key is JSON null.");
                if (entry.Value is not null)
                {
                    value = _serializer.Deserialize(entry.Value);
                }
            }
            catch (Exception exception)
            {
                // Left in the journal: a later version of the app that can read it replays it then.
                Log.SerializationFailed(_logger, exception, Name, System.Text.Encoding.UTF8.GetString(entry.Key));
                continue;
            }

            lock (_writeBackLocks[(int)((uint)_comparer.GetHashCode(key) % (uint)_writeBackLocks.Length)])
            {
                _clock.Observe(entry.Version);
                _ = _writeBack.Replay(key, value, entry.Value is null, entry.Version, entry.Key);
                InvalidateLocal(key);
            }

            replayed++;
        }

        if (replayed > 0)
        {
            Log.JournalReplayed(_logger, Name, replayed);
        }
    }

    private byte[] SerializeKey(TKey key)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(key, _keyTypeInfo);
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new CacheSerializationException($"Cache '{Name}': key '{key}' could not be serialized as JSON for the backplane or journal: {exception.Message}", exception);
        }
    }

    private byte[] SerializeValue(TKey key, TValue value)
    {
        try
        {
            return _serializer.Serialize(value);
        }
        catch (Exception exception)
        {
            throw new CacheSerializationException($"Cache '{Name}': the value of key '{key}' could not be serialized for the journal; the write was not accepted: {exception.Message}", exception);
        }
    }

    private string FormatKey(TKey key) => key switch
    {
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => JsonSerializer.Serialize(key, _keyTypeInfo),
    };

    private sealed class WriteInFlight
    {
        private volatile bool _overtaken;

        public bool Overtaken
        {
            get => _overtaken;
            set => _overtaken = value;
        }
    }

    private sealed class Subscriber(Cache<TKey, TValue> cache) : ICacheBackplaneSubscriber
    {
        public void OnMessage(BackplaneMessage message) => cache.OnBackplaneMessage(message);

        public void OnMessagesMayHaveBeenMissed(string reason) => cache.Revalidate(reason);
    }
}
