using System.Diagnostics.CodeAnalysis;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Jump consistent hash (Lamping and Veach, 2014): nodes are buckets 0..n-1 in membership order; no memory
/// beyond the node list and perfectly even load. Adding a node at the end moves 1/(n+1) of the keys.
/// Removing the last node moves only its keys; removing another node moves the last node into its bucket,
/// so about 2/n of the keys move. Weights are not supported.
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class JumpHash<TNode> : ConsistentHash<TNode>
{
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Creates a Jump hash, validating <paramref name="options"/> and adding <see cref="ConsistentHashOptions{TNode}.Nodes"/> in order.</summary>
    /// <param name="options">The options.</param>
    public JumpHash(ConsistentHashOptions<TNode> options)
        : base(options)
    {
        Initialize(options.Nodes);
    }

    /// <inheritdoc />
    public override ConsistentHashAlgorithm Algorithm => ConsistentHashAlgorithm.Jump;

    private protected override bool OrdersMembersByKey => false;

    private protected override bool SupportsWeights => false;

    /// <inheritdoc />
    public override bool TryGetNode(ulong keyHash, [MaybeNullWhen(false)] out TNode node)
    {
        TNode[] nodes = _snapshot.Nodes;
        if (nodes.Length == 0)
        {
            node = default;
            return false;
        }

        node = nodes[JumpHash.Bucket(keyHash, nodes.Length)];
        return true;
    }

    /// <summary>The owner's bucket, then the following buckets in order, wrapping around.</summary>
    /// <inheritdoc />
    public override int GetNodes(ulong keyHash, Span<TNode> destination)
    {
        TNode[] nodes = _snapshot.Nodes;
        int wanted = Math.Min(destination.Length, nodes.Length);
        if (wanted == 0)
        {
            return 0;
        }

        int bucket = JumpHash.Bucket(keyHash, nodes.Length);
        for (int i = 0; i < wanted; i++)
        {
            destination[i] = nodes[bucket];
            if (++bucket == nodes.Length)
            {
                bucket = 0;
            }
        }

        return wanted;
    }

    private protected override MemberList<TNode> PublishedMembers => _snapshot.Members;

    private protected override void Rebuild(in MembershipChange<TNode> change, MemberList<TNode> members) =>
        _snapshot = new Snapshot(members.Nodes, members);

    private sealed class Snapshot(TNode[] nodes, MemberList<TNode> members)
    {
        public static readonly Snapshot Empty = new([], MemberList<TNode>.Empty);

        public TNode[] Nodes { get; } = nodes;

        public MemberList<TNode> Members { get; } = members;
    }
}

/// <summary>The Jump consistent hash function itself, for callers that number their buckets.</summary>
public static class JumpHash
{
    /// <summary>The Jump bucket of a key hash for <paramref name="buckets"/> buckets.</summary>
    /// <param name="keyHash">The key hash.</param>
    /// <param name="buckets">The number of buckets, at least 1.</param>
    /// <returns>A bucket from 0 to <paramref name="buckets"/> - 1.</returns>
    public static int Bucket(ulong keyHash, int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        long b = -1;
        long j = 0;
        while (j < buckets)
        {
            b = j;
            keyHash = unchecked((keyHash * 2862933555777941757UL) + 1);
            j = (long)((b + 1) * (2147483648.0 / ((keyHash >> 33) + 1)));
        }

        return (int)b;
    }
}
