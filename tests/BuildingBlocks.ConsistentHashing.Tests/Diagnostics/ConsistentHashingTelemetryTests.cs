using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace BuildingBlocks.ConsistentHashing.Tests.Diagnostics;

public class ConsistentHashingTelemetryTests
{
    [Fact]
    public void MembershipChange_IsCountedWithTheNameAndAlgorithmTags()
    {
        using ServiceProvider provider = BuildProvider(services => services.AddConsistentHashing<string>("orders", o => o.Algorithm = ConsistentHashAlgorithm.Maglev).WithNodes("a"));
        var meterFactory = provider.GetRequiredService<IMeterFactory>();
        using var changes = new MetricCollector<long>(meterFactory, ConsistentHashingDiagnostics.MeterName, ConsistentHashingDiagnostics.MembershipChangesInstrument);
        using var durations = new MetricCollector<double>(meterFactory, ConsistentHashingDiagnostics.MeterName, ConsistentHashingDiagnostics.RebuildDurationInstrument);
        IConsistentHash<string> hash = provider.GetRequiredKeyedService<IConsistentHash<string>>("orders");

        hash.Add("b");

        CollectedMeasurement<long> change = Assert.Single(changes.GetMeasurementSnapshot());
        Assert.Equal(1, change.Value);
        Assert.Equal("orders", change.Tags[ConsistentHashingDiagnostics.NameTag]);
        Assert.Equal("Maglev", change.Tags[ConsistentHashingDiagnostics.AlgorithmTag]);
        Assert.Equal("{change}", changes.Instrument!.Unit);

        CollectedMeasurement<double> duration = Assert.Single(durations.GetMeasurementSnapshot());
        Assert.True(duration.Value >= 0);
        Assert.Equal("orders", duration.Tags[ConsistentHashingDiagnostics.NameTag]);
        Assert.Equal("s", durations.Instrument!.Unit);

        hash.Remove("a");
        hash.Remove("not-a-member");
        Assert.Equal(2, changes.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public void NodesGauge_ReportsTheCurrentCountPerInstance()
    {
        using ServiceProvider provider = BuildProvider(services =>
        {
            services.AddConsistentHashing<string>().WithNodes("a", "b");
            services.AddConsistentHashing<string>("orders", o => o.Algorithm = ConsistentHashAlgorithm.Jump).WithNodes("x");
        });
        using var nodes = new MetricCollector<int>(provider.GetRequiredService<IMeterFactory>(), ConsistentHashingDiagnostics.MeterName, ConsistentHashingDiagnostics.NodesInstrument);
        IConsistentHash<string> defaultHash = provider.GetRequiredService<IConsistentHash<string>>();
        IConsistentHash<string> orders = provider.GetRequiredKeyedService<IConsistentHash<string>>("orders");

        nodes.RecordObservableInstruments();
        Assert.Equal(2, Last(nodes, string.Empty).Value);
        Assert.Equal(1, Last(nodes, "orders").Value);
        Assert.Equal("Jump", Last(nodes, "orders").Tags[ConsistentHashingDiagnostics.AlgorithmTag]);

        defaultHash.Add("c");
        orders.Remove("x");
        nodes.RecordObservableInstruments();
        Assert.Equal(3, Last(nodes, string.Empty).Value);
        Assert.Equal(0, Last(nodes, "orders").Value);

        static CollectedMeasurement<int> Last(MetricCollector<int> collector, string name) =>
            collector.GetMeasurementSnapshot().Last(m => Equals(m.Tags[ConsistentHashingDiagnostics.NameTag], name));
    }

    [Fact]
    public void MembershipChange_LogsEvent1001WithTheNameVersionAndCounts()
    {
        using ServiceProvider provider = BuildProvider(services => services.AddConsistentHashing<string>("orders", null).WithNodes("a"));
        FakeLogCollector logs = provider.GetFakeLogCollector();
        IConsistentHash<string> hash = provider.GetRequiredKeyedService<IConsistentHash<string>>("orders");

        hash.SetNodes([new WeightedNode<string>("b"), new WeightedNode<string>("c")]);

        FakeLogRecord record = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 1001);
        Assert.Equal("MembershipChanged", record.Id.Name);
        Assert.Equal(LogLevel.Information, record.Level);
        Assert.Equal("BuildingBlocks.ConsistentHashing", record.Category);
        Assert.Equal("orders", record.GetStructuredStateValue("Name"));
        Assert.Equal(hash.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), record.GetStructuredStateValue("Version"));
        Assert.Equal("2", record.GetStructuredStateValue("NodeCount"));
        Assert.Equal("2", record.GetStructuredStateValue("AddedCount"));
        Assert.Equal("1", record.GetStructuredStateValue("RemovedCount"));
        Assert.Contains("'orders'", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Creation_LogsEvent1000AtDebugLevel()
    {
        using ServiceProvider provider = BuildProvider(services => services.AddConsistentHashing<string>(o => o.KeyHash = KeyHashAlgorithm.Murmur3).WithNodes("a", "b"));
        FakeLogCollector logs = provider.GetFakeLogCollector();

        provider.GetRequiredService<IConsistentHash<string>>();

        FakeLogRecord record = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 1000);
        Assert.Equal(LogLevel.Debug, record.Level);
        Assert.Equal("murmur3", record.GetStructuredStateValue("Hasher"));
        Assert.Equal("2", record.GetStructuredStateValue("NodeCount"));
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Id == 1001); // the initial nodes are not a change
    }

    [Fact]
    public void Instances_CreatedWithoutDependencyInjection_WorkWithoutTelemetry()
    {
        var hash = new HashRing<string>(new ConsistentHashOptions<string>());

        hash.Add("a");

        Assert.Equal(1, hash.Version);
        Assert.Equal("BuildingBlocks.ConsistentHashing", ConsistentHashingDiagnostics.MeterName);
        Assert.Equal("BuildingBlocks.ConsistentHashing", ConsistentHashingDiagnostics.ActivitySourceName);
        Assert.Equal("buildingblocks.consistent_hashing.membership.changes", ConsistentHashingDiagnostics.MembershipChangesInstrument);
        Assert.Equal("buildingblocks.consistent_hashing.nodes", ConsistentHashingDiagnostics.NodesInstrument);
        Assert.Equal("buildingblocks.consistent_hashing.rebuild.duration", ConsistentHashingDiagnostics.RebuildDurationInstrument);
    }

    private static ServiceProvider BuildProvider(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddFakeLogging());
        configure(services);
        return services.BuildServiceProvider();
    }
}
