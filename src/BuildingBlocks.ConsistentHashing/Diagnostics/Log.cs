using Microsoft.Extensions.Logging;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>Log messages; event ids are stable and listed in docs/diagnostics.md.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, EventName = "ConsistentHashCreated", Level = LogLevel.Debug,
        Message = "Consistent hash '{Name}' created: {Algorithm}, key hash {Hasher}, {NodeCount} nodes.")]
    public static partial void Created(ILogger logger, string name, ConsistentHashAlgorithm algorithm, string hasher, int nodeCount);

    [LoggerMessage(EventId = 1001, EventName = "MembershipChanged", Level = LogLevel.Information,
        Message = "Consistent hash '{Name}' membership is now version {Version}: {NodeCount} nodes, {AddedCount} added, {RemovedCount} removed, rebuilt in {RebuildMilliseconds:F2} ms.")]
    public static partial void MembershipChanged(ILogger logger, string name, long version, int nodeCount, int addedCount, int removedCount, double rebuildMilliseconds);
}
