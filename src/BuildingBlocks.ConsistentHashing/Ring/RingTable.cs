using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// The immutable lookup structure of a ring: points sorted by position plus a prefix index that maps the
/// top bits of a hash to the first point of that range, so a lookup is one index read and a short scan
/// instead of a binary search over every point.
/// </summary>
/// <remarks>
/// Determinism: points are ordered by (position, member key, replica). A point whose position is not greater
/// than its predecessor's moves to the predecessor's position + 1; one that would pass 2^64 - 1 takes the
/// smallest free position from 0 upwards. So the same membership gives the same ring whatever the order of
/// changes, no virtual node is dropped, and every point owns a non-empty arc.
/// </remarks>
internal sealed class RingTable
{
    private const int MaxIndexBits = 24;

    /// <summary>Slots after the real points: a probe reads three points at once and never past the array.</summary>
    private const int Sentinels = 3;

    public static readonly RingTable Empty = new(new RingPoint[Sentinels], count: 0, hasCollisions: false);

    // Count real points followed by sentinels at position 2^64 - 1 owned by the first point's member:
    // a scan always stops at the first sentinel, and landing on it is the wrap-around to point 0.
    private readonly RingPoint[] _points;

    // points: the first count points sorted by position, plus Sentinels spare slots at the end.
    private RingTable(RingPoint[] points, int count, bool hasCollisions)
    {
        _points = points;
        Count = count;
        HasCollisions = hasCollisions;
        points.AsSpan(count, Sentinels).Fill(new RingPoint { Position = ulong.MaxValue, Member = count == 0 ? -1 : points[0].Member, Replica = -1 });

        // About one index slot per point: the scan after the index read is under one point on average.
        int bits = count <= 2 ? 1 : Math.Min(MaxIndexBits, 64 - BitOperations.LeadingZeroCount((ulong)(count - 1)));
        Shift = 64 - bits;
        int size = 1 << bits;
        int[] index = GC.AllocateUninitializedArray<int>(size + 1); // every slot is written below

        // index[b] = first point whose top bits are >= b: one pass over the points, filling each run of buckets.
        int nextBucket = 0;
        for (int p = 0; p < count; p++)
        {
            int bucket = (int)(points[p].Position >> Shift);
            if (bucket >= nextBucket)
            {
                index.AsSpan(nextBucket, bucket - nextBucket + 1).Fill(p);
                nextBucket = bucket + 1;
            }
        }

        index.AsSpan(nextBucket).Fill(count);
        Index = index;
    }

    /// <summary>The number of points (virtual nodes).</summary>
    public int Count { get; }

    /// <summary>The points sorted by position (the sentinel excluded).</summary>
    public ReadOnlySpan<RingPoint> Points => new(_points, 0, Count);

    public int[] Index { get; }

    public int Shift { get; }

    /// <summary>Whether any point was moved by the collision rule; then changes rebuild fully to stay deterministic.</summary>
    public bool HasCollisions { get; }

    public static int VirtualNodeCount(int virtualNodes, double weight) => (int)Math.Clamp(Math.Round(virtualNodes * weight, MidpointRounding.AwayFromZero), 1, int.MaxValue / 64);

    /// <summary>The points followed by the sentinels, for <see cref="OwnerOf"/>.</summary>
    public RingPoint[] PointsWithSentinels => _points;

    /// <summary>
    /// The member owning <paramref name="hash"/>, from a table's parts: callers on the hot path keep the parts
    /// in their own snapshot, one pointer hop closer than the table.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int OwnerOf(RingPoint[] pointsWithSentinels, int[] index, int shift, ulong hash) =>
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(pointsWithSentinels), Probe(pointsWithSentinels, index, shift, hash)).Member;

    /// <summary>The index of the first point at or after <paramref name="hash"/>, wrapping to 0. The table must not be empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FindFirst(ulong hash)
    {
        int i = Probe(_points, Index, Shift, hash);
        return i == Count ? 0 : i;
    }

    /// <summary>Walks from the bucket's first point to the first point at or after <paramref name="hash"/>; may return the sentinel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Probe(RingPoint[] pointsWithSentinels, int[] index, int shift, ulong hash)
    {
        int i = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(index), (nint)(hash >> shift));
        ref RingPoint first = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(pointsWithSentinels), i);

        // Every point after the bucket, and every sentinel, is >= the hash, so no bound check is needed.
        // Buckets hold under one point on average: comparing the next three points at once (independent
        // loads, no branches) settles almost every lookup; the loop handles the rare crowded bucket.
        bool b0 = first.Position < hash;
        bool b1 = Unsafe.Add(ref first, 1).Position < hash;
        bool b2 = Unsafe.Add(ref first, 2).Position < hash;
        int below = Unsafe.As<bool, byte>(ref b0) + Unsafe.As<bool, byte>(ref b1) + Unsafe.As<bool, byte>(ref b2);
        i += below;
        if (below == 3)
        {
            ref RingPoint points = ref MemoryMarshal.GetArrayDataReference(pointsWithSentinels);
            while (Unsafe.Add(ref points, i).Position < hash)
            {
                i++;
            }
        }

        return i;
    }

    /// <summary>
    /// Writes the distinct members met walking clockwise from point <paramref name="start"/>, skipping
    /// member <paramref name="exclude"/> (-1 for none).
    /// </summary>
    public int Walk<TNode>(int start, TNode[] nodes, Span<TNode> destination, int exclude = -1)
    {
        int available = exclude >= 0 ? nodes.Length - 1 : nodes.Length;
        int wanted = Math.Min(destination.Length, available);
        if (wanted <= 0)
        {
            return 0;
        }

        ReadOnlySpan<RingPoint> points = Points;
        int written = 0;
        int i = start;
        if (wanted <= 16)
        {
            Span<int> seen = stackalloc int[17];
            int seenCount = 0;
            if (exclude >= 0)
            {
                seen[seenCount++] = exclude;
            }

            for (int step = 0; step < points.Length; step++)
            {
                int member = points[i].Member;
                if (!seen.Slice(0, seenCount).Contains(member))
                {
                    seen[seenCount++] = member;
                    destination[written++] = nodes[member];
                    if (written == wanted)
                    {
                        break;
                    }
                }

                if (++i == points.Length)
                {
                    i = 0;
                }
            }

            return written;
        }

        ulong[] bitmap = new ulong[(nodes.Length + 63) / 64];
        if (exclude >= 0)
        {
            bitmap[exclude >> 6] |= 1UL << (exclude & 63);
        }

        for (int step = 0; step < points.Length && written < wanted; step++)
        {
            int member = points[i].Member;
            ulong bit = 1UL << (member & 63);
            if ((bitmap[member >> 6] & bit) == 0)
            {
                bitmap[member >> 6] |= bit;
                destination[written++] = nodes[member];
            }

            if (++i == points.Length)
            {
                i = 0;
            }
        }

        return written;
    }

    /// <summary>Builds the table for <paramref name="change"/>, incrementally when that is exact, else from scratch.</summary>
    public static RingTable Apply<TNode>(RingTable current, in MembershipChange<TNode> change, int virtualNodes, IKeyHasher hasher)
    {
        RingTable? next = change.Kind switch
        {
            MembershipChangeKind.Add => current.WithAdded(change.AddedIndex, change.NewMembers[change.AddedIndex], virtualNodes, hasher),
            MembershipChangeKind.Remove => current.WithRemoved(change.RemovedIndex),
            MembershipChangeKind.Replace => current.WithReplaced(change, virtualNodes, hasher),
            _ => null,
        };

        return next ?? Build(change.NewMembers, virtualNodes, hasher);
    }

    public static RingTable Build<TNode>(RingMember<TNode>[] members, int virtualNodes, IKeyHasher hasher)
    {
        long total = 0;
        foreach (RingMember<TNode> member in members)
        {
            total += VirtualNodeCount(virtualNodes, member.Weight);
        }

        if (total > Array.MaxLength - Sentinels)
        {
            throw new InvalidOperationException($"The ring would need {total} virtual nodes; lower VirtualNodes or the weights.");
        }

        int count = (int)total;
        RingPoint[] points = GC.AllocateUninitializedArray<RingPoint>(count + Sentinels);
        int offset = 0;
        for (int m = 0; m < members.Length; m++)
        {
            offset += WritePoints(members[m].Key, m, VirtualNodeCount(virtualNodes, members[m].Weight), hasher, points.AsSpan(offset));
        }

        Span<RingPoint> real = points.AsSpan(0, count);
        real.Sort(default(RingPointComparer));
        bool collisions = ResolveCollisions(real);
        return new RingTable(points, count, collisions);
    }

    private static int WritePoints(string key, int member, int count, IKeyHasher hasher, Span<RingPoint> destination)
    {
        byte[] buffer = KeyHashing.CreatePointBuffer(key);
        for (int r = 0; r < count; r++)
        {
            destination[r] = new RingPoint { Position = KeyHashing.PointPosition(hasher, buffer, r), Member = member, Replica = r };
        }

        return count;
    }

    private static bool ResolveCollisions(Span<RingPoint> points)
    {
        bool moved = false;
        for (int i = 1; i < points.Length; i++)
        {
            ulong previous = points[i - 1].Position;
            if (points[i].Position > previous)
            {
                continue;
            }

            moved = true;
            if (previous == ulong.MaxValue)
            {
                WrapOverflow(points, i);
                break;
            }

            points[i].Position = previous + 1;
        }

        return moved;
    }

    // Points from 'first' on all sit at 2^64 - 1 behind a point already there: give them the lowest free positions.
    private static void WrapOverflow(Span<RingPoint> points, int first)
    {
        ulong candidate = 0;
        int kept = 0;
        for (int s = first; s < points.Length; s++)
        {
            while (kept < first && points[kept].Position <= candidate)
            {
                if (points[kept].Position == candidate)
                {
                    candidate++;
                }

                kept++;
            }

            points[s].Position = candidate++;
        }

        points.Sort(default(RingPointComparer));
    }

    private RingTable? WithAdded<TNode>(int memberIndex, RingMember<TNode> member, int virtualNodes, IKeyHasher hasher)
    {
        if (HasCollisions)
        {
            return null;
        }

        var added = new RingPoint[VirtualNodeCount(virtualNodes, member.Weight)];
        WritePoints(member.Key, memberIndex, added.Length, hasher, added);
        added.AsSpan().Sort(default(RingPointComparer));

        ReadOnlySpan<RingPoint> old = Points;
        RingPoint[] merged = GC.AllocateUninitializedArray<RingPoint>(old.Length + added.Length + Sentinels);
        int a = 0;
        int b = 0;
        int o = 0;
        while (b < added.Length)
        {
            if (b > 0 && added[b].Position == added[b - 1].Position)
            {
                return null;
            }

            if (a < old.Length && old[a].Position <= added[b].Position)
            {
                if (old[a].Position == added[b].Position)
                {
                    return null;
                }

                RingPoint p = old[a++];
                if (p.Member >= memberIndex)
                {
                    p.Member++;
                }

                merged[o++] = p;
            }
            else
            {
                merged[o++] = added[b++];
            }
        }

        for (; a < old.Length; a++)
        {
            RingPoint p = old[a];
            if (p.Member >= memberIndex)
            {
                p.Member++;
            }

            merged[o++] = p;
        }

        return new RingTable(merged, o, hasCollisions: false);
    }

    private RingTable? WithRemoved(int memberIndex)
    {
        if (HasCollisions)
        {
            return null;
        }

        ReadOnlySpan<RingPoint> old = Points;
        int removed = 0;
        foreach (RingPoint p in old)
        {
            if (p.Member == memberIndex)
            {
                removed++;
            }
        }

        RingPoint[] kept = GC.AllocateUninitializedArray<RingPoint>(old.Length - removed + Sentinels);
        int o = 0;
        foreach (RingPoint p in old)
        {
            if (p.Member == memberIndex)
            {
                continue;
            }

            RingPoint q = p;
            if (q.Member > memberIndex)
            {
                q.Member--;
            }

            kept[o++] = q;
        }

        return new RingTable(kept, o, hasCollisions: false);
    }

    private RingTable? WithReplaced<TNode>(in MembershipChange<TNode> change, int virtualNodes, IKeyHasher hasher)
    {
        RingMember<TNode> left = change.OldMembers[change.RemovedIndex];
        RingMember<TNode> joined = change.NewMembers[change.AddedIndex];
        if (string.Equals(left.Key, joined.Key, StringComparison.Ordinal))
        {
            return this; // same key, same weight: same points, same member index
        }

        return WithRemoved(change.RemovedIndex)?.WithAdded(change.AddedIndex, joined, virtualNodes, hasher);
    }
}
