using System.Diagnostics.CodeAnalysis;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018): a ring where a key goes to
/// the first node clockwise whose load is below ⌈(1 + ε) × (total load + 1) / n⌉, so no node takes more than
/// about (1 + ε) times the average. Load is placed with <see cref="Acquire(string)"/> and removed by disposing
/// the lease; lookups (<see cref="ConsistentHash{TNode}.GetNode(ulong)"/>) read the loads but do not change them.
/// </summary>
/// <remarks>
/// Concurrent acquirers can each see the same spare capacity, so a node may briefly exceed its bound by the
/// number of acquisitions racing on it. Loads survive membership changes for nodes that stay.
/// </remarks>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class BoundedLoadHashRing<TNode> : ConsistentHash<TNode>
{
    private readonly Dictionary<string, NodeLoad> _loadsByKey = new(StringComparer.Ordinal);
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private long _totalLoad;

    /// <summary>Creates a bounded-load ring, validating <paramref name="options"/> and adding <see cref="ConsistentHashOptions{TNode}.Nodes"/>.</summary>
    /// <param name="options">The options.</param>
    public BoundedLoadHashRing(ConsistentHashOptions<TNode> options)
        : base(options)
    {
        VirtualNodes = options.VirtualNodes;
        Epsilon = options.BoundedLoadEpsilon;
        Initialize(options.Nodes);
    }

    /// <inheritdoc />
    public override ConsistentHashAlgorithm Algorithm => ConsistentHashAlgorithm.BoundedLoad;

    /// <summary>Virtual nodes per node of weight 1.</summary>
    public int VirtualNodes { get; }

    /// <summary>The ε of the (1 + ε) load bound.</summary>
    public double Epsilon { get; }

    /// <summary>The load currently placed on all members.</summary>
    public long TotalLoad => Interlocked.Read(ref _totalLoad);

    /// <summary>The most load one node accepts before keys spill to the next node: ⌈(1 + ε) × (total + 1) / n⌉.</summary>
    public long Capacity => CapacityFor(_snapshot, TotalLoad);

    /// <inheritdoc />
    public override bool TryGetNode(ulong keyHash, [MaybeNullWhen(false)] out TNode node)
    {
        Snapshot s = _snapshot;
        if (s.Nodes.Length == 0)
        {
            node = default;
            return false;
        }

        node = s.Nodes[Choose(s, keyHash)];
        return true;
    }

    /// <summary>The ring's preference list; the first node is the one a lookup would choose now.</summary>
    /// <inheritdoc />
    public override int GetNodes(ulong keyHash, Span<TNode> destination)
    {
        Snapshot s = _snapshot;
        if (s.Nodes.Length == 0 || destination.IsEmpty)
        {
            return 0;
        }

        int chosen = Choose(s, keyHash);
        destination[0] = s.Nodes[chosen];
        if (destination.Length == 1)
        {
            return 1;
        }

        // The rest in ring order from the key, skipping the chosen node.
        return 1 + s.Table.Walk(s.Table.FindFirst(keyHash), s.Nodes, destination.Slice(1), exclude: chosen);
    }

    /// <summary>Places one unit of load for <paramref name="key"/> on the node chosen now.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The lease; dispose it once to remove the load.</returns>
    /// <exception cref="EmptyRingException">There are no nodes.</exception>
    public BoundedLoadLease<TNode> Acquire(string key) => Acquire(HashKey(key));

    /// <summary>Places one unit of load for a key hash on the node chosen now.</summary>
    /// <param name="keyHash">The key hash.</param>
    /// <returns>The lease; dispose it once to remove the load.</returns>
    /// <exception cref="EmptyRingException">There are no nodes.</exception>
    public BoundedLoadLease<TNode> Acquire(ulong keyHash)
    {
        while (true)
        {
            Snapshot s = _snapshot;
            if (s.Nodes.Length == 0)
            {
                ThrowEmpty();
            }

            int member = Choose(s, keyHash);
            NodeLoad load = s.Loads[member];

            // Count the total first: a node that leaves meanwhile subtracts whatever its counter holds.
            Interlocked.Increment(ref _totalLoad);
            if (load.TryIncrement())
            {
                return new BoundedLoadLease<TNode>(this, load, s.Nodes[member]);
            }

            // The node left after we read the snapshot: undo and choose again on the new one.
            Interlocked.Decrement(ref _totalLoad);
        }
    }

    /// <summary>The load currently on the member with the node's key, or 0 when there is none.</summary>
    /// <param name="node">The node.</param>
    /// <returns>Its load.</returns>
    public long GetLoad(TNode node)
    {
        Snapshot s = _snapshot;
        return s.Members.IndexByKey.TryGetValue(KeyOf(node, nameof(node)), out int index) ? s.Loads[index].Current : 0;
    }

    internal void Release(NodeLoad load)
    {
        // Only a live counter above zero gives back load: a lease disposed twice, or one whose node left
        // (its load was already subtracted from the total), changes nothing.
        if (load.TryDecrement())
        {
            Interlocked.Decrement(ref _totalLoad);
        }
    }

    private protected override MemberList<TNode> PublishedMembers => _snapshot.Members;

    private protected override void Rebuild(in MembershipChange<TNode> change, MemberList<TNode> members)
    {
        RingTable table = RingTable.Apply(_snapshot.Table, change, VirtualNodes, Hasher);
        RingMember<TNode>[] items = change.NewMembers;
        var loads = new NodeLoad[items.Length];
        var stillMember = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Length; i++)
        {
            stillMember.Add(items[i].Key);
            if (!_loadsByKey.TryGetValue(items[i].Key, out NodeLoad? load))
            {
                load = new NodeLoad();
                _loadsByKey.Add(items[i].Key, load);
            }

            loads[i] = load;
        }

        // Publish first, so an Acquire that still holds the old snapshot retries on the new one.
        _snapshot = new Snapshot(table, members.Nodes, loads, Epsilon, members);
        foreach (string key in _loadsByKey.Keys.Where(k => !stillMember.Contains(k)).ToList())
        {
            Interlocked.Add(ref _totalLoad, -_loadsByKey[key].Detach());
            _loadsByKey.Remove(key);
        }
    }

    private static long CapacityFor(Snapshot s, long totalLoad) =>
        s.Nodes.Length == 0 ? 0 : (long)Math.Ceiling((1.0 + s.Epsilon) * (totalLoad + 1) / s.Nodes.Length);

    private int Choose(Snapshot s, ulong keyHash)
    {
        long capacity = CapacityFor(s, TotalLoad);
        ReadOnlySpan<RingPoint> points = s.Table.Points;
        int i = s.Table.FindFirst(keyHash);
        for (int step = 0; step < points.Length; step++)
        {
            int member = points[i].Member;
            if (s.Loads[member].Current < capacity)
            {
                return member;
            }

            if (++i == points.Length)
            {
                i = 0;
            }
        }

        // Only reachable while loads change under us: fall back to the least-loaded node.
        int least = 0;
        for (int m = 1; m < s.Loads.Length; m++)
        {
            if (s.Loads[m].Current < s.Loads[least].Current)
            {
                least = m;
            }
        }

        return least;
    }

    /// <summary>One node's load counter; <see cref="long.MinValue"/> once the node has left the ring.</summary>
    internal sealed class NodeLoad
    {
        private const long Detached = long.MinValue;
        private long _value;

        public long Current => Math.Max(0, Volatile.Read(ref _value));

        public bool TryIncrement()
        {
            long value = Volatile.Read(ref _value);
            while (value >= 0)
            {
                long seen = Interlocked.CompareExchange(ref _value, value + 1, value);
                if (seen == value)
                {
                    return true;
                }

                value = seen;
            }

            return false;
        }

        public bool TryDecrement()
        {
            long value = Volatile.Read(ref _value);
            while (value > 0)
            {
                long seen = Interlocked.CompareExchange(ref _value, value - 1, value);
                if (seen == value)
                {
                    return true;
                }

                value = seen;
            }

            return false;
        }

        /// <summary>Marks the node as gone and returns the load it still held.</summary>
        public long Detach() => Math.Max(0, Interlocked.Exchange(ref _value, Detached));
    }

    private sealed class Snapshot(RingTable table, TNode[] nodes, NodeLoad[] loads, double epsilon, MemberList<TNode> members)
    {
        public static readonly Snapshot Empty = new(RingTable.Empty, [], [], 0, MemberList<TNode>.Empty);

        public MemberList<TNode> Members { get; } = members;

        public RingTable Table { get; } = table;

        public TNode[] Nodes { get; } = nodes;

        public NodeLoad[] Loads { get; } = loads;

        public double Epsilon { get; } = epsilon;
    }
}
