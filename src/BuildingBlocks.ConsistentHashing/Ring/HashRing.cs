using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// A consistent-hash ring with virtual nodes and weights. Each node of weight w owns
/// round(<see cref="ConsistentHashOptions{TNode}.VirtualNodes"/> × w) points; a key belongs to the first point
/// at or after its hash, wrapping around. Adding or removing a node moves only the keys of the arcs it gains or loses.
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
/// <example>
/// <code>
/// var ring = new HashRing&lt;string&gt;(new ConsistentHashOptions&lt;string&gt;());
/// ring.Add("cache-a");
/// ring.Add("cache-b", weight: 2);
/// string owner = ring.GetNode("user:42");
/// </code>
/// </example>
public sealed class HashRing<TNode> : ConsistentHash<TNode>
{
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Creates a ring, validating <paramref name="options"/> and adding <see cref="ConsistentHashOptions{TNode}.Nodes"/>.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message names it.</exception>
    public HashRing(ConsistentHashOptions<TNode> options)
        : base(options)
    {
        VirtualNodes = options.VirtualNodes;
        Initialize(options.Nodes);
    }

    /// <inheritdoc />
    public override ConsistentHashAlgorithm Algorithm => ConsistentHashAlgorithm.Ring;

    /// <summary>Virtual nodes per node of weight 1.</summary>
    public int VirtualNodes { get; }

    /// <summary>The number of points (virtual nodes) on the ring.</summary>
    public int PointCount => _snapshot.Table.Count;

    internal RingTable Table => _snapshot.Table;

    /// <inheritdoc />
    public override TNode GetNode(ReadOnlySpan<byte> key) => Lookup(_snapshot, HashKey(key));

    /// <inheritdoc />
    public override TNode GetNode(ulong keyHash) => Lookup(_snapshot, keyHash);

    /// <inheritdoc />
    public override bool TryGetNode(ulong keyHash, [MaybeNullWhen(false)] out TNode node)
    {
        Snapshot s = _snapshot;
        if (s.Nodes.Length == 0)
        {
            node = default;
            return false;
        }

        node = s.Nodes[s.OwnerOf(keyHash)];
        return true;
    }

    /// <inheritdoc />
    public override int GetNodes(ulong keyHash, Span<TNode> destination)
    {
        Snapshot s = _snapshot;
        return s.Nodes.Length == 0 ? 0 : s.Table.Walk(s.Table.FindFirst(keyHash), s.Nodes, destination);
    }

    /// <summary>The exact fraction of the 64-bit key space each member owns, in <see cref="ConsistentHash{TNode}.Members"/> order.</summary>
    /// <returns>One fraction per member; they sum to 1.</returns>
    public double[] GetKeyspaceShares()
    {
        Snapshot s = _snapshot;
        var shares = new double[s.Nodes.Length];
        ReadOnlySpan<RingPoint> points = s.Table.Points;
        const double Scale = 1.0 / 18446744073709551616.0;
        for (int i = 0; i < points.Length; i++)
        {
            // Point i owns the arc (previous, position]; the first point also owns the wrap-around arc.
            ulong previous = i == 0 ? points[^1].Position : points[i - 1].Position;
            ulong arc = unchecked(points[i].Position - previous);
            shares[points[i].Member] += points.Length == 1 ? 1.0 : arc * Scale;
        }

        return shares;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TNode Lookup(Snapshot s, ulong keyHash)
    {
        if (s.Nodes.Length == 0)
        {
            ThrowEmpty();
        }

        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s.Nodes), s.OwnerOf(keyHash));
    }

    private protected override MemberList<TNode> PublishedMembers => _snapshot.Members;

    private protected override void Rebuild(in MembershipChange<TNode> change, MemberList<TNode> members)
    {
        RingTable table = RingTable.Apply(_snapshot.Table, change, VirtualNodes, Hasher);
        _snapshot = new Snapshot(table, members);
    }

    private sealed class Snapshot(RingTable table, MemberList<TNode> members)
    {
        public static readonly Snapshot Empty = new(RingTable.Empty, MemberList<TNode>.Empty);

        // The table's parts, copied here so a lookup reaches them without going through the table.
        public readonly RingPoint[] Points = table.PointsWithSentinels;
        public readonly int[] Index = table.Index;
        public readonly int Shift = table.Shift;
        public readonly TNode[] Nodes = members.Nodes;

        public MemberList<TNode> Members { get; } = members;

        public RingTable Table { get; } = table;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int OwnerOf(ulong keyHash) => RingTable.OwnerOf(Points, Index, Shift, keyHash);
    }
}
