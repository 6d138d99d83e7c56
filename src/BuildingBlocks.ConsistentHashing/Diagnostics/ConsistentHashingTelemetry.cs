using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>Metrics and logs for the instances created through DI; one per service provider.</summary>
internal sealed class ConsistentHashingTelemetry
{
    private readonly ILogger _logger;
    private readonly Counter<long>? _changes;
    private readonly Histogram<double>? _rebuildDuration;
    private readonly List<(string Name, Func<int> Count, ConsistentHashAlgorithm Algorithm)> _instances = [];
    private readonly Lock _lock = new();

    public ConsistentHashingTelemetry(IMeterFactory? meterFactory = null, ILoggerFactory? loggerFactory = null)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("BuildingBlocks.ConsistentHashing");
        if (meterFactory is null)
        {
            return;
        }

        Meter meter = meterFactory.Create(ConsistentHashingDiagnostics.MeterName);
        _changes = meter.CreateCounter<long>(ConsistentHashingDiagnostics.MembershipChangesInstrument, "{change}", "Membership changes applied.");
        _rebuildDuration = meter.CreateHistogram<double>(ConsistentHashingDiagnostics.RebuildDurationInstrument, "s", "Time to rebuild and publish the lookup structure after a membership change.");
        meter.CreateObservableGauge(ConsistentHashingDiagnostics.NodesInstrument, ObserveNodes, "{node}", "Current members.");
    }

    public void Attach<TNode>(string name, IConsistentHash<TNode> hash)
    {
        lock (_lock)
        {
            _instances.Add((name, () => hash.Count, hash.Algorithm));
        }

        Log.Created(_logger, name, hash.Algorithm, hash.Hasher.Name, hash.Count);
        var tags = new KeyValuePair<string, object?>[]
        {
            new(ConsistentHashingDiagnostics.NameTag, name),
            new(ConsistentHashingDiagnostics.AlgorithmTag, hash.Algorithm.ToString()),
        };
        hash.MembershipChanged += (_, e) =>
        {
            _changes?.Add(1, tags);
            _rebuildDuration?.Record(e.RebuildDuration.TotalSeconds, tags);
            Log.MembershipChanged(_logger, name, e.Version, e.NodeCount, e.Added.Count, e.Removed.Count, e.RebuildDuration.TotalMilliseconds);
        };
    }

    private IEnumerable<Measurement<int>> ObserveNodes()
    {
        lock (_lock)
        {
            return [.. _instances.Select(i => new Measurement<int>(i.Count(),
                new KeyValuePair<string, object?>(ConsistentHashingDiagnostics.NameTag, i.Name),
                new KeyValuePair<string, object?>(ConsistentHashingDiagnostics.AlgorithmTag, i.Algorithm.ToString())))];
        }
    }
}
