namespace BuildingBlocks.ConsistentHashing;

/// <summary>The consistent-hashing algorithms available behind <see cref="IConsistentHash{TNode}"/>.</summary>
public enum ConsistentHashAlgorithm
{
    /// <summary>A hash ring with virtual nodes and weights (Karger et al.). The general-purpose default.</summary>
    Ring = 0,

    /// <summary>Jump consistent hash (Lamping and Veach): no memory, perfect balance; nodes are numbered buckets, change only at the end, no weights.</summary>
    Jump = 1,

    /// <summary>Rendezvous, or highest random weight (Thaler and Ravishankar): no tables, weights, O(n) per lookup. Best for tens of nodes.</summary>
    Rendezvous = 2,

    /// <summary>Maglev lookup table (Eisenbud et al.): O(1) lookups and near-perfect balance; a little more movement on change than a ring.</summary>
    Maglev = 3,

    /// <summary>A ring where no node takes more than (1 + ε) times the average load (Mirrokni, Thorup and Zadimoghaddam).</summary>
    BoundedLoad = 4,
}
