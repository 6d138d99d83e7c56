namespace BuildingBlocks.ConsistentHashing;

/// <summary>What <see cref="DistributionAnalyzer.Analyze(DistributionAnalysisOptions)"/> measures.</summary>
public sealed class DistributionAnalysisOptions
{
    /// <summary>The algorithm. Default <see cref="ConsistentHashAlgorithm.Ring"/>.</summary>
    public ConsistentHashAlgorithm Algorithm { get; set; } = ConsistentHashAlgorithm.Ring;

    /// <summary>Nodes on the ring before a change. Default 100; at least 2.</summary>
    public int NodeCount { get; set; } = 100;

    /// <summary>Virtual nodes per node (Ring, BoundedLoad). Default 160.</summary>
    public int VirtualNodes { get; set; } = ConsistentHashOptions<string>.DefaultVirtualNodes;

    /// <summary>Synthetic 16-byte keys used for sampled loads and for counting moved keys. Default 1,000,000.</summary>
    public int KeyCount { get; set; } = 1_000_000;

    /// <summary>How many different single-node additions and removals are averaged. Default 10.</summary>
    public int MovementTrials { get; set; } = 10;

    /// <summary>The key hash. Default <see cref="KeyHashAlgorithm.XxHash3"/>.</summary>
    public KeyHashAlgorithm KeyHash { get; set; } = KeyHashAlgorithm.XxHash3;

    /// <summary>Maglev table size (a prime). Default 65,537.</summary>
    public int MaglevTableSize { get; set; } = ConsistentHashOptions<string>.DefaultMaglevTableSize;

    /// <summary>Bounded-load ε. Default 0.25.</summary>
    public double BoundedLoadEpsilon { get; set; } = ConsistentHashOptions<string>.DefaultBoundedLoadEpsilon;
}
