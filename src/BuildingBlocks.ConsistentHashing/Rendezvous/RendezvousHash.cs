using System.Diagnostics.CodeAnalysis;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Rendezvous, or highest-random-weight, hashing (Thaler and Ravishankar, 1998): every node scores the key and
/// the highest score wins. No tables, minimal movement, weights by logarithmic scaling (Schindelhauer and
/// Schomaker); each lookup costs O(n), so it suits up to a few hundred nodes.
/// </summary>
/// <remarks>
/// Score of node i for key hash k: s = fmix64(k XOR h_i), with h_i the hash of the node key's UTF-8 bytes.
/// With weights, the score is w_i / -ln(u) where u = (s &gt;&gt; 11 + 0.5) / 2^53. Ties go to the lower node key.
/// </remarks>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class RendezvousHash<TNode> : ConsistentHash<TNode>
{
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Creates a rendezvous hash, validating <paramref name="options"/> and adding <see cref="ConsistentHashOptions{TNode}.Nodes"/>.</summary>
    /// <param name="options">The options.</param>
    public RendezvousHash(ConsistentHashOptions<TNode> options)
        : base(options)
    {
        Initialize(options.Nodes);
    }

    /// <inheritdoc />
    public override ConsistentHashAlgorithm Algorithm => ConsistentHashAlgorithm.Rendezvous;

    /// <inheritdoc />
    public override bool TryGetNode(ulong keyHash, [MaybeNullWhen(false)] out TNode node)
    {
        Snapshot s = _snapshot;
        if (s.Nodes.Length == 0)
        {
            node = default;
            return false;
        }

        node = s.Nodes[s.Best(keyHash)];
        return true;
    }

    /// <summary>The nodes in descending score order.</summary>
    /// <inheritdoc />
    public override int GetNodes(ulong keyHash, Span<TNode> destination)
    {
        Snapshot s = _snapshot;
        int wanted = Math.Min(destination.Length, s.Nodes.Length);
        if (wanted == 0)
        {
            return 0;
        }

        if (wanted == 1)
        {
            destination[0] = s.Nodes[s.Best(keyHash)];
            return 1;
        }

        // Keep the top 'wanted' (score, index) pairs by insertion; wanted is small in practice.
        Span<ulong> scores = wanted <= 64 ? stackalloc ulong[64] : new ulong[wanted];
        Span<int> indexes = wanted <= 64 ? stackalloc int[64] : new int[wanted];
        int count = 0;
        for (int i = 0; i < s.Nodes.Length; i++)
        {
            ulong score = s.Score(keyHash, i);
            if (count == wanted && score <= scores[count - 1])
            {
                continue;
            }

            int at = count < wanted ? count++ : wanted - 1;
            while (at > 0 && scores[at - 1] < score)
            {
                scores[at] = scores[at - 1];
                indexes[at] = indexes[at - 1];
                at--;
            }

            scores[at] = score;
            indexes[at] = i;
        }

        for (int i = 0; i < wanted; i++)
        {
            destination[i] = s.Nodes[indexes[i]];
        }

        return wanted;
    }

    private protected override MemberList<TNode> PublishedMembers => _snapshot.Members;

    private protected override void Rebuild(in MembershipChange<TNode> change, MemberList<TNode> members)
    {
        RingMember<TNode>[] items = change.NewMembers;
        var hashes = new ulong[items.Length];
        var weights = new double[items.Length];
        bool weighted = false;
        for (int i = 0; i < items.Length; i++)
        {
            hashes[i] = KeyHashing.HashString(Hasher, items[i].Key);
            weights[i] = items[i].Weight;
            weighted |= items[i].Weight != 1.0;
        }

        _snapshot = new Snapshot(members.Nodes, hashes, weighted ? weights : null, members);
    }

    private sealed class Snapshot(TNode[] nodes, ulong[] hashes, double[]? weights, MemberList<TNode> members)
    {
        public static readonly Snapshot Empty = new([], [], null, MemberList<TNode>.Empty);

        public MemberList<TNode> Members { get; } = members;

        public TNode[] Nodes { get; } = nodes;

        public int Best(ulong keyHash)
        {
            int best = 0;
            ulong bestScore = Score(keyHash, 0);
            for (int i = 1; i < hashes.Length; i++)
            {
                ulong score = Score(keyHash, i);
                if (score > bestScore)
                {
                    bestScore = score;
                    best = i;
                }
            }

            return best;
        }

        /// <summary>An order-preserving score: raw 64 bits, or the bits of the positive weighted double.</summary>
        public ulong Score(ulong keyHash, int i)
        {
            ulong raw = Mixer.Fmix64(keyHash ^ hashes[i]);
            if (weights is null)
            {
                return raw;
            }

            double u = ((raw >> 11) + 0.5) * (1.0 / 9007199254740992.0);
            return BitConverter.DoubleToUInt64Bits(weights[i] / -Math.Log(u));
        }
    }
}
