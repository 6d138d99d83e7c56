using System.Runtime.InteropServices;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>One virtual node: 16 bytes, so a lookup touches one cache line for position and owner together.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RingPoint
{
    public ulong Position;
    public int Member;
    public int Replica;
}

/// <summary>Orders points by position, then member (members are in key order), then replica: the documented tie-break.</summary>
internal readonly struct RingPointComparer : IComparer<RingPoint>
{
    public int Compare(RingPoint x, RingPoint y)
    {
        int c = x.Position.CompareTo(y.Position);
        if (c != 0)
        {
            return c;
        }

        c = x.Member.CompareTo(y.Member);
        return c != 0 ? c : x.Replica.CompareTo(y.Replica);
    }
}
