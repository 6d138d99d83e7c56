namespace BuildingBlocks.ConsistentHashing;

/// <summary>How evenly an algorithm spreads keys and how many keys a single membership change moves.</summary>
public sealed class DistributionReport
{
    /// <summary>The algorithm measured.</summary>
    public required ConsistentHashAlgorithm Algorithm { get; init; }

    /// <summary>Nodes before a change.</summary>
    public required int NodeCount { get; init; }

    /// <summary>Virtual nodes per node (meaningful for Ring and BoundedLoad).</summary>
    public required int VirtualNodes { get; init; }

    /// <summary>Keys used for sampled loads and movement.</summary>
    public required int KeyCount { get; init; }

    /// <summary>True when loads are exact key-space shares (Ring, Maglev); false when counted over the sample keys.</summary>
    public required bool ExactLoads { get; init; }

    /// <summary>Most-loaded node's load divided by the mean load (1 is perfect).</summary>
    public required double PeakToMean { get; init; }

    /// <summary>Least-loaded node's load divided by the mean load (1 is perfect).</summary>
    public required double MinToMean { get; init; }

    /// <summary>Standard deviation of the load divided by the mean load (0 is perfect).</summary>
    public required double RelativeStandardDeviation { get; init; }

    /// <summary>Fraction of keys whose owner changed when one node was added, averaged over the trials.</summary>
    public required double MovedOnAdd { get; init; }

    /// <summary>Fraction of keys whose owner changed when one node was removed, averaged over the trials.</summary>
    public required double MovedOnRemove { get; init; }

    /// <summary>Fraction of keys that moved between two nodes that were not part of the change (0 for a ring; above 0 for Maglev and bounded loads).</summary>
    public required double StrayMoves { get; init; }

    /// <summary>The least possible fraction moved when adding a node: 1 / (n + 1).</summary>
    public double IdealMovedOnAdd => 1.0 / (NodeCount + 1);

    /// <summary>The least possible fraction moved when removing a node: 1 / n.</summary>
    public double IdealMovedOnRemove => 1.0 / NodeCount;

    /// <summary><see cref="MovedOnAdd"/> divided by <see cref="IdealMovedOnAdd"/> (1 is ideal).</summary>
    public double AddMoveRatio => MovedOnAdd / IdealMovedOnAdd;

    /// <summary><see cref="MovedOnRemove"/> divided by <see cref="IdealMovedOnRemove"/> (1 is ideal).</summary>
    public double RemoveMoveRatio => MovedOnRemove / IdealMovedOnRemove;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Algorithm} n={NodeCount} vnodes={VirtualNodes}: peak/mean {PeakToMean:F3}, min/mean {MinToMean:F3}, rsd {RelativeStandardDeviation:P1}, moved on add {AddMoveRatio:F3}× ideal, on remove {RemoveMoveRatio:F3}× ideal, stray {StrayMoves:P3}";
}
