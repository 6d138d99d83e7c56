using System.Diagnostics.CodeAnalysis;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of prime size M filled from each node's
/// permutation of slots, so a lookup is one multiply and one array read and every node gets ⌊M/n⌋ or ⌈M/n⌉
/// slots (scaled by weight). A change rebuilds the table and moves slightly more than the ideal 1/n of the keys.
/// </summary>
/// <remarks>
/// Node i with key hash h: offset = h mod M, skip = fmix64(h) mod (M - 1) + 1, its j-th preferred slot is
/// (offset + j × skip) mod M. Nodes take turns in key order; a node of weight w takes w / w_max turns per round
/// (credit starts at 1 - w / w_max, so every node takes one slot in the first round, however small its weight).
/// A key hash k reads slot ⌊k × M / 2^64⌋.
/// </remarks>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class MaglevHash<TNode> : ConsistentHash<TNode>
{
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Creates a Maglev hash, validating <paramref name="options"/> and adding <see cref="ConsistentHashOptions{TNode}.Nodes"/>.</summary>
    /// <param name="options">The options.</param>
    public MaglevHash(ConsistentHashOptions<TNode> options)
        : base(options)
    {
        TableSize = options.MaglevTableSize;
        Initialize(options.Nodes);
    }

    /// <inheritdoc />
    public override ConsistentHashAlgorithm Algorithm => ConsistentHashAlgorithm.Maglev;

    /// <summary>The lookup table size M (a prime).</summary>
    public int TableSize { get; }

    /// <inheritdoc />
    public override bool TryGetNode(ulong keyHash, [MaybeNullWhen(false)] out TNode node)
    {
        Snapshot s = _snapshot;
        if (s.Nodes.Length == 0)
        {
            node = default;
            return false;
        }

        node = s.Nodes[s.Table[Slot(keyHash)]];
        return true;
    }

    /// <summary>The owner, then the distinct nodes of the following table slots.</summary>
    /// <inheritdoc />
    public override int GetNodes(ulong keyHash, Span<TNode> destination)
    {
        Snapshot s = _snapshot;
        int wanted = Math.Min(destination.Length, s.Nodes.Length);
        if (wanted == 0)
        {
            return 0;
        }

        int[] table = s.Table;
        bool[] seen = wanted > 16 ? new bool[s.Nodes.Length] : [];
        Span<int> recent = stackalloc int[16];
        int written = 0;
        int slot = Slot(keyHash);
        for (int step = 0; step < table.Length && written < wanted; step++)
        {
            int member = table[slot];
            bool isNew = wanted > 16 ? !seen[member] : !recent.Slice(0, written).Contains(member);
            if (isNew)
            {
                if (wanted > 16)
                {
                    seen[member] = true;
                }
                else
                {
                    recent[written] = member;
                }

                destination[written++] = s.Nodes[member];
            }

            if (++slot == table.Length)
            {
                slot = 0;
            }
        }

        return written;
    }

    /// <summary>The exact fraction of the key space each member owns, in member order.</summary>
    /// <returns>One fraction per member.</returns>
    public double[] GetKeyspaceShares()
    {
        Snapshot s = _snapshot;
        var shares = new double[s.Nodes.Length];
        foreach (int member in s.Table)
        {
            shares[member] += 1.0 / s.Table.Length;
        }

        return shares;
    }

    private int Slot(ulong keyHash) => (int)Math.BigMul(keyHash, (ulong)TableSize, out _);

    private protected override MemberList<TNode> PublishedMembers => _snapshot.Members;

    private protected override void Rebuild(in MembershipChange<TNode> change, MemberList<TNode> members)
    {
        RingMember<TNode>[] items = change.NewMembers;
        if (items.Length > TableSize)
        {
            throw new InvalidOperationException($"MaglevTableSize ({TableSize}) must be at least the number of nodes ({items.Length}); choose a prime above 100 × the node count.");
        }

        _snapshot = items.Length == 0 ? Snapshot.Empty : new Snapshot(members.Nodes, Populate(items), members);
    }

    private int[] Populate(RingMember<TNode>[] members)
    {
        int m = TableSize;
        int n = members.Length;
        var offset = new ulong[n];
        var skip = new ulong[n];
        var next = new ulong[n];
        var share = new double[n];
        var credit = new double[n];
        double maxWeight = members.Max(x => x.Weight);
        for (int i = 0; i < n; i++)
        {
            ulong h = KeyHashing.HashString(Hasher, members[i].Key);
            offset[i] = h % (ulong)m;
            skip[i] = (Mixer.Fmix64(h) % (ulong)(m - 1)) + 1;
            share[i] = members[i].Weight / maxWeight;
            credit[i] = 1.0 - share[i]; // the first round gives every node one slot, however small its weight
        }

        var table = new int[m];
        Array.Fill(table, -1);
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                credit[i] += share[i];
                while (credit[i] >= 1.0)
                {
                    credit[i] -= 1.0;
                    int slot;
                    do
                    {
                        slot = (int)((offset[i] + (next[i] * skip[i])) % (ulong)m);
                        next[i]++;
                    }
                    while (table[slot] >= 0);

                    table[slot] = i;
                    if (++filled == m)
                    {
                        return table;
                    }
                }
            }
        }
    }

    private sealed class Snapshot(TNode[] nodes, int[] table, MemberList<TNode> members)
    {
        public static readonly Snapshot Empty = new([], [], MemberList<TNode>.Empty);

        public MemberList<TNode> Members { get; } = members;

        public TNode[] Nodes { get; } = nodes;

        public int[] Table { get; } = table;
    }
}
