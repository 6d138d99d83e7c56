namespace BuildingBlocks.ConsistentHashing;

/// <summary>Options of a consistent hash. Validated when the instance is created (and at start-up under DI).</summary>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class ConsistentHashOptions<TNode>
{
    /// <summary>The default number of virtual nodes per node of weight 1 (see docs/consistent-hashing.md for the measurements behind it).</summary>
    public const int DefaultVirtualNodes = 160;

    /// <summary>The default Maglev table size: a prime, about 65 slots per node at 1,000 nodes.</summary>
    public const int DefaultMaglevTableSize = 65_537;

    /// <summary>The default bounded-load ε: no node above 1.25 × the average load.</summary>
    public const double DefaultBoundedLoadEpsilon = 0.25;

    /// <summary>The largest accepted <see cref="VirtualNodes"/>.</summary>
    public const int MaxVirtualNodes = 100_000;

    /// <summary>The largest accepted <see cref="MaglevTableSize"/>.</summary>
    public const int MaxMaglevTableSize = 16_777_259;

    /// <summary>The algorithm. Default <see cref="ConsistentHashAlgorithm.Ring"/>.</summary>
    public ConsistentHashAlgorithm Algorithm { get; set; } = ConsistentHashAlgorithm.Ring;

    /// <summary>Virtual nodes per node of weight 1 (Ring and BoundedLoad). Default 160; 1 to 100,000.</summary>
    public int VirtualNodes { get; set; } = DefaultVirtualNodes;

    /// <summary>The built-in key hash. Default <see cref="KeyHashAlgorithm.XxHash3"/>. Ignored when <see cref="KeyHasher"/> is set.</summary>
    public KeyHashAlgorithm KeyHash { get; set; } = KeyHashAlgorithm.XxHash3;

    /// <summary>A custom key hasher; when set it replaces <see cref="KeyHash"/>.</summary>
    public IKeyHasher? KeyHasher { get; set; }

    /// <summary>
    /// Returns a node's stable identity, from which its positions are derived. Required unless
    /// <typeparamref name="TNode"/> is <see cref="string"/> (then the node is its own key). Never use
    /// <c>GetHashCode</c>-based or per-process values here.
    /// </summary>
    public Func<TNode, string>? NodeKeySelector { get; set; }

    /// <summary>Maglev lookup table size: a prime from 7 to 16,777,259, ideally above 100 × the node count. Default 65,537.</summary>
    public int MaglevTableSize { get; set; } = DefaultMaglevTableSize;

    /// <summary>Bounded-load ε: capacity per node is ⌈(1 + ε) × average load⌉. Greater than 0 and at most 100. Default 0.25.</summary>
    public double BoundedLoadEpsilon { get; set; } = DefaultBoundedLoadEpsilon;

    /// <summary>The initial members.</summary>
    public IList<WeightedNode<TNode>> Nodes { get; } = new List<WeightedNode<TNode>>();
}
