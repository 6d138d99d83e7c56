using System.Text;

namespace BuildingBlocks.ConsistentHashing.Tests.Support;

/// <summary>
/// Straightforward implementations written from the published algorithms and from the formulas in the library's
/// XML docs (and docs/consistent-hashing-golden-vectors.json), deliberately without sharing code with the library.
/// </summary>
internal static class Reference
{
    /// <summary>MurmurHash3's 64-bit finalizer.</summary>
    public static ulong Fmix64(ulong k)
    {
        unchecked
        {
            k ^= k >> 33;
            k *= 0xff51afd7ed558ccdUL;
            k ^= k >> 33;
            k *= 0xc4ceb9fe1a85ec53UL;
            k ^= k >> 33;
            return k;
        }
    }

    /// <summary>Jump consistent hash as printed in Lamping and Veach (2014), figure 1.</summary>
    public static int JumpBucket(ulong key, int numBuckets)
    {
        long b = -1;
        long j = 0;
        while (j < numBuckets)
        {
            b = j;
            key = unchecked((key * 2862933555777941757UL) + 1);
            j = (long)((b + 1) * ((double)(1L << 31) / (double)((key >> 33) + 1)));
        }

        return (int)b;
    }

    /// <summary>MurmurHash3_x64_128 from the public-domain reference (smhasher MurmurHash3.cpp), with its fall-through tail switch.</summary>
    public static (ulong H1, ulong H2) Murmur3X64_128(ReadOnlySpan<byte> data, uint seed = 0)
    {
        const ulong c1 = 0x87c37b91114253d5UL;
        const ulong c2 = 0x4cf5ad432745937fUL;
        unchecked
        {
            int len = data.Length;
            int nblocks = len / 16;
            ulong h1 = seed;
            ulong h2 = seed;

            for (int i = 0; i < nblocks; i++)
            {
                ulong k1 = ReadLittleEndian(data, i * 16);
                ulong k2 = ReadLittleEndian(data, (i * 16) + 8);

                k1 *= c1;
                k1 = Rotl(k1, 31);
                k1 *= c2;
                h1 ^= k1;
                h1 = Rotl(h1, 27);
                h1 += h2;
                h1 = (h1 * 5) + 0x52dce729;

                k2 *= c2;
                k2 = Rotl(k2, 33);
                k2 *= c1;
                h2 ^= k2;
                h2 = Rotl(h2, 31);
                h2 += h1;
                h2 = (h2 * 5) + 0x38495ab5;
            }

            ReadOnlySpan<byte> tail = data[(nblocks * 16)..];
            ulong t1 = 0;
            ulong t2 = 0;
            switch (len & 15)
            {
                case 15: t2 ^= (ulong)tail[14] << 48; goto case 14;
                case 14: t2 ^= (ulong)tail[13] << 40; goto case 13;
                case 13: t2 ^= (ulong)tail[12] << 32; goto case 12;
                case 12: t2 ^= (ulong)tail[11] << 24; goto case 11;
                case 11: t2 ^= (ulong)tail[10] << 16; goto case 10;
                case 10: t2 ^= (ulong)tail[9] << 8; goto case 9;
                case 9:
                    t2 ^= tail[8];
                    t2 *= c2;
                    t2 = Rotl(t2, 33);
                    t2 *= c1;
                    h2 ^= t2;
                    goto case 8;
                case 8: t1 ^= (ulong)tail[7] << 56; goto case 7;
                case 7: t1 ^= (ulong)tail[6] << 48; goto case 6;
                case 6: t1 ^= (ulong)tail[5] << 40; goto case 5;
                case 5: t1 ^= (ulong)tail[4] << 32; goto case 4;
                case 4: t1 ^= (ulong)tail[3] << 24; goto case 3;
                case 3: t1 ^= (ulong)tail[2] << 16; goto case 2;
                case 2: t1 ^= (ulong)tail[1] << 8; goto case 1;
                case 1:
                    t1 ^= tail[0];
                    t1 *= c1;
                    t1 = Rotl(t1, 31);
                    t1 *= c2;
                    h1 ^= t1;
                    break;
                default:
                    break;
            }

            h1 ^= (ulong)len;
            h2 ^= (ulong)len;
            h1 += h2;
            h2 += h1;
            h1 = Fmix64(h1);
            h2 = Fmix64(h2);
            h1 += h2;
            h2 += h1;
            return (h1, h2);
        }
    }

    /// <summary>Ring position of a virtual node: hash(UTF-8(nodeKey) ++ 0x00 ++ uint32-LE(replica)).</summary>
    public static ulong RingPosition(IKeyHasher hasher, string nodeKey, int replica)
    {
        byte[] key = Encoding.UTF8.GetBytes(nodeKey);
        byte[] input = new byte[key.Length + 5];
        key.CopyTo(input, 0);
        input[key.Length] = 0;
        input[key.Length + 1] = (byte)replica;
        input[key.Length + 2] = (byte)(replica >> 8);
        input[key.Length + 3] = (byte)(replica >> 16);
        input[key.Length + 4] = (byte)(replica >> 24);
        return hasher.Hash(input);
    }

    /// <summary>Virtual nodes of a member: round-half-away-from-zero(virtualNodes × weight), at least 1.</summary>
    public static int VirtualNodeCount(int virtualNodes, double weight) =>
        Math.Max(1, (int)Math.Round(virtualNodes * weight, MidpointRounding.AwayFromZero));

    private static ulong ReadLittleEndian(ReadOnlySpan<byte> data, int offset)
    {
        ulong value = 0;
        for (int i = 7; i >= 0; i--)
        {
            value = (value << 8) | data[offset + i];
        }

        return value;
    }

    private static ulong Rotl(ulong x, int r) => (x << r) | (x >> (64 - r));
}

/// <summary>A member as the reference models see it.</summary>
internal sealed record ReferenceNode(string Key, double Weight = 1.0);

/// <summary>The ring of the docs: sorted (position, member, replica) points, first point at or after the key hash, wrapping.</summary>
internal sealed class ReferenceRing
{
    private readonly (ulong Position, int Member, int Replica)[] _points;
    private readonly string[] _keys;

    public ReferenceRing(IKeyHasher hasher, IEnumerable<ReferenceNode> nodes, int virtualNodes)
    {
        ReferenceNode[] members = [.. nodes.OrderBy(n => n.Key, StringComparer.Ordinal)];
        _keys = [.. members.Select(m => m.Key)];
        var points = new List<(ulong Position, int Member, int Replica)>();
        for (int m = 0; m < members.Length; m++)
        {
            int count = Reference.VirtualNodeCount(virtualNodes, members[m].Weight);
            for (int r = 0; r < count; r++)
            {
                points.Add((Reference.RingPosition(hasher, members[m].Key, r), m, r));
            }
        }

        _points = [.. points.OrderBy(p => p.Position).ThenBy(p => p.Member).ThenBy(p => p.Replica)];
        for (int i = 1; i < _points.Length; i++)
        {
            if (_points[i].Position <= _points[i - 1].Position)
            {
                throw new InvalidOperationException("The reference ring does not model collisions; pick inputs without them.");
            }
        }
    }

    public IReadOnlyList<(ulong Position, int Member, int Replica)> Points => _points;

    public string[] GetNodes(ulong keyHash, int count)
    {
        int start = 0;
        while (start < _points.Length && _points[start].Position < keyHash)
        {
            start++;
        }

        var result = new List<string>();
        for (int step = 0; step < _points.Length && result.Count < Math.Min(count, _keys.Length); step++)
        {
            string key = _keys[_points[(start + step) % _points.Length].Member];
            if (!result.Contains(key))
            {
                result.Add(key);
            }
        }

        return [.. result];
    }
}

/// <summary>Rendezvous as documented: fmix64(k XOR hash(node key)); weighted w / -ln(u); highest first, ties to the lower key.</summary>
internal sealed class ReferenceRendezvous(IKeyHasher hasher, IEnumerable<ReferenceNode> nodes)
{
    private readonly ReferenceNode[] _members = [.. nodes.OrderBy(n => n.Key, StringComparer.Ordinal)];

    public string[] GetNodes(ulong keyHash, int count)
    {
        bool weighted = _members.Any(m => m.Weight != 1.0);
        var scored = new List<(string Key, int Index, ulong Raw, double Weighted)>();
        for (int i = 0; i < _members.Length; i++)
        {
            ulong raw = Reference.Fmix64(keyHash ^ hasher.Hash(Encoding.UTF8.GetBytes(_members[i].Key)));
            double u = ((raw >> 11) + 0.5) / 9007199254740992.0;
            scored.Add((_members[i].Key, i, raw, _members[i].Weight / -Math.Log(u)));
        }

        IOrderedEnumerable<(string Key, int Index, ulong Raw, double Weighted)> ordered = weighted
            ? scored.OrderByDescending(s => s.Weighted).ThenBy(s => s.Index)
            : scored.OrderByDescending(s => s.Raw).ThenBy(s => s.Index);
        return [.. ordered.Take(count).Select(s => s.Key)];
    }
}

/// <summary>Maglev as documented: per-node permutations, weighted turns in key order (credit starting at 1 - share), slot ⌊k × M / 2^64⌋.</summary>
internal sealed class ReferenceMaglev
{
    private readonly string[] _keys;

    public ReferenceMaglev(IKeyHasher hasher, IEnumerable<ReferenceNode> nodes, int tableSize)
    {
        ReferenceNode[] members = [.. nodes.OrderBy(n => n.Key, StringComparer.Ordinal)];
        _keys = [.. members.Select(m => m.Key)];
        int n = members.Length;
        ulong m = (ulong)tableSize;
        double maxWeight = members.Max(x => x.Weight);
        var offset = new ulong[n];
        var skip = new ulong[n];
        var next = new ulong[n];
        var credit = new double[n];
        var share = new double[n];
        for (int i = 0; i < n; i++)
        {
            ulong h = hasher.Hash(Encoding.UTF8.GetBytes(members[i].Key));
            offset[i] = h % m;
            skip[i] = (Reference.Fmix64(h) % (m - 1)) + 1;
            share[i] = members[i].Weight / maxWeight;
            credit[i] = 1.0 - share[i]; // so every node takes a slot in the first round
        }

        Table = new int[tableSize];
        Array.Fill(Table, -1);
        int filled = 0;
        while (filled < tableSize)
        {
            for (int i = 0; i < n && filled < tableSize; i++)
            {
                credit[i] += share[i];
                while (credit[i] >= 1.0 && filled < tableSize)
                {
                    credit[i] -= 1.0;
                    ulong slot;
                    do
                    {
                        slot = (offset[i] + (next[i] * skip[i])) % m;
                        next[i]++;
                    }
                    while (Table[slot] >= 0);

                    Table[slot] = i;
                    filled++;
                }
            }
        }
    }

    public int[] Table { get; }

    public IReadOnlyList<string> Keys => _keys;

    public int Slot(ulong keyHash) => (int)(((UInt128)keyHash * (UInt128)(ulong)Table.Length) >> 64);

    public string[] GetNodes(ulong keyHash, int count)
    {
        var result = new List<string>();
        int slot = Slot(keyHash);
        for (int step = 0; step < Table.Length && result.Count < Math.Min(count, _keys.Length); step++)
        {
            string key = _keys[Table[(slot + step) % Table.Length]];
            if (!result.Contains(key))
            {
                result.Add(key);
            }
        }

        return [.. result];
    }
}
