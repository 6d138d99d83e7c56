using System.Diagnostics;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>Names of the meter, activity source, instruments and tags this package emits.</summary>
public static class ConsistentHashingDiagnostics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry.</summary>
    public const string MeterName = "BuildingBlocks.ConsistentHashing";

    /// <summary>The activity source name, for <c>AddSource</c> in OpenTelemetry.</summary>
    public const string ActivitySourceName = "BuildingBlocks.ConsistentHashing";

    /// <summary>Counter of membership changes ({change}).</summary>
    public const string MembershipChangesInstrument = "buildingblocks.consistent_hashing.membership.changes";

    /// <summary>Histogram of the time to rebuild and publish the lookup structure (s).</summary>
    public const string RebuildDurationInstrument = "buildingblocks.consistent_hashing.rebuild.duration";

    /// <summary>Gauge of current members ({node}).</summary>
    public const string NodesInstrument = "buildingblocks.consistent_hashing.nodes";

    /// <summary>Tag: the registration name of the instance ("" for the default).</summary>
    public const string NameTag = "buildingblocks.consistent_hashing.name";

    /// <summary>Tag: the algorithm.</summary>
    public const string AlgorithmTag = "buildingblocks.consistent_hashing.algorithm";

    /// <summary>The activity started around each membership change.</summary>
    public const string MembershipChangeActivity = "ConsistentHash.MembershipChange";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
