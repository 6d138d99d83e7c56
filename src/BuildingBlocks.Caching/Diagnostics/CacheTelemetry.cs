using System.Diagnostics.Metrics;

namespace BuildingBlocks.Caching;

/// <summary>The instruments of one cache; without a meter factory every call is a no-op.</summary>
internal sealed class CacheTelemetry : IDisposable
{
    private static readonly KeyValuePair<string, object?> L1 = new(CachingDiagnostics.LayerTag, "l1");
    private static readonly KeyValuePair<string, object?> L2 = new(CachingDiagnostics.LayerTag, "l2");
    private static readonly KeyValuePair<string, object?> Backplane = new(CachingDiagnostics.LayerTag, "backplane");

    private readonly Meter? _meter;
    private readonly Counter<long>? _hits;
    private readonly Counter<long>? _misses;
    private readonly Counter<long>? _loads;
    private readonly Counter<long>? _loadFailures;
    private readonly Histogram<double>? _loadDuration;
    private readonly Counter<long>? _storeWrites;
    private readonly Counter<long>? _coalesced;
    private readonly Counter<long>? _flushFailures;
    private readonly Counter<long>? _deadLetters;
    private readonly Counter<long>? _invalidationsSent;
    private readonly Counter<long>? _invalidationsReceived;
    private readonly Counter<long>? _revalidations;
    private readonly Counter<long>? _evictions;
    private readonly Counter<long>? _evictedBeforeReuse;
    private readonly Counter<long>? _distributedFailures;

    public CacheTelemetry(IMeterFactory? meterFactory, string cacheName, Func<int> depth, Func<double> lagSeconds, Func<int> l1Count)
    {
        if (meterFactory is null)
        {
            return;
        }

        _meter = meterFactory.Create(new MeterOptions(CachingDiagnostics.MeterName)
        {
            Tags = [new KeyValuePair<string, object?>(CachingDiagnostics.CacheTag, cacheName)],
        });
        _hits = _meter.CreateCounter<long>(CachingDiagnostics.HitsInstrument, "{read}", "Reads answered by L1 or L2.");
        _misses = _meter.CreateCounter<long>(CachingDiagnostics.MissesInstrument, "{read}", "Reads no cache layer answered.");
        _loads = _meter.CreateCounter<long>(CachingDiagnostics.LoadsInstrument, "{load}", "Backing-store loads.");
        _loadFailures = _meter.CreateCounter<long>(CachingDiagnostics.LoadFailuresInstrument, "{load}", "Failed or timed-out backing-store loads.");
        _loadDuration = _meter.CreateHistogram<double>(CachingDiagnostics.LoadDurationInstrument, "s", "Backing-store load time.");
        _storeWrites = _meter.CreateCounter<long>(CachingDiagnostics.StoreWritesInstrument, "{write}", "Keys written to the backing store.");
        _coalesced = _meter.CreateCounter<long>(CachingDiagnostics.CoalescedWritesInstrument, "{write}", "Write-back writes that replaced a waiting write to the same key.");
        _flushFailures = _meter.CreateCounter<long>(CachingDiagnostics.FlushFailuresInstrument, "{call}", "Failed write-back store calls.");
        _deadLetters = _meter.CreateCounter<long>(CachingDiagnostics.DeadLettersInstrument, "{write}", "Write-back writes moved to the dead-letter list.");
        _invalidationsSent = _meter.CreateCounter<long>(CachingDiagnostics.InvalidationsSentInstrument, "{message}", "Invalidations sent on the backplane.");
        _invalidationsReceived = _meter.CreateCounter<long>(CachingDiagnostics.InvalidationsReceivedInstrument, "{message}", "Invalidations from other nodes applied.");
        _revalidations = _meter.CreateCounter<long>(CachingDiagnostics.RevalidationsInstrument, "{revalidation}", "L1 dropped because backplane messages may have been missed.");
        _evictions = _meter.CreateCounter<long>(CachingDiagnostics.EvictionsInstrument, "{entry}", "L1 evictions.");
        _evictedBeforeReuse = _meter.CreateCounter<long>(CachingDiagnostics.EvictedBeforeReuseInstrument, "{entry}", "L1 entries evicted before they were read once.");
        _distributedFailures = _meter.CreateCounter<long>(CachingDiagnostics.DistributedFailuresInstrument, "{call}", "Failed L2 or backplane calls.");
        _meter.CreateObservableGauge(CachingDiagnostics.WriteBackDepthInstrument, depth, "{write}", "Write-back keys waiting for the store.");
        _meter.CreateObservableGauge(CachingDiagnostics.WriteBackLagInstrument, lagSeconds, "s", "Age of the oldest waiting write-back write.");
        _meter.CreateObservableGauge(CachingDiagnostics.L1CountInstrument, l1Count, "{entry}", "L1 entries.");
    }

    public void L1Hit()
    {
        if (_hits is { Enabled: true })
        {
            _hits.Add(1, L1);
        }
    }

    public void L2Hit() => _hits?.Add(1, L2);

    public void Miss() => _misses?.Add(1);

    public void Loaded(TimeSpan duration, bool failed)
    {
        _loads?.Add(1);
        _loadDuration?.Record(duration.TotalSeconds);
        if (failed)
        {
            _loadFailures?.Add(1);
        }
    }

    public void StoreWrites(int count, WriteStrategy strategy) =>
        _storeWrites?.Add(count, new KeyValuePair<string, object?>(CachingDiagnostics.StrategyTag, StrategyName(strategy)));

    public void Coalesced() => _coalesced?.Add(1);

    public void FlushFailed() => _flushFailures?.Add(1);

    public void DeadLettered() => _deadLetters?.Add(1);

    public void InvalidationSent() => _invalidationsSent?.Add(1);

    public void InvalidationReceived() => _invalidationsReceived?.Add(1);

    public void Revalidated() => _revalidations?.Add(1);

    public void Evicted(bool beforeReuse)
    {
        _evictions?.Add(1);
        if (beforeReuse)
        {
            _evictedBeforeReuse?.Add(1);
        }
    }

    public void DistributedFailed() => _distributedFailures?.Add(1, L2);

    public void BackplaneFailed() => _distributedFailures?.Add(1, Backplane);

    public void Dispose() => _meter?.Dispose();

    internal static string StrategyName(WriteStrategy strategy) => strategy switch
    {
        WriteStrategy.WriteThrough => "write_through",
        WriteStrategy.WriteAround => "write_around",
        _ => "write_back",
    };
}
