using System.IO.Hashing;

namespace BuildingBlocks.ConsistentHashing.Tests.Support;

/// <summary>XXH3 with most bits masked off: few distinct values, so ring positions collide a lot.</summary>
internal sealed class MaskedHasher(ulong mask) : IKeyHasher
{
    public string Name => $"masked-{mask:x}";

    public ulong Hash(ReadOnlySpan<byte> key) => XxHash3.HashToUInt64(key) & mask;
}

/// <summary>Returns the same value for every input: every virtual node collides with every other.</summary>
internal sealed class ConstantHasher(ulong value) : IKeyHasher
{
    public string Name => $"constant-{value:x}";

    public ulong Hash(ReadOnlySpan<byte> key) => value;
}

/// <summary>A distinguishable custom hasher (FNV-1a 64) for DI and option tests.</summary>
internal sealed class Fnv1aHasher : IKeyHasher
{
    public static Fnv1aHasher Instance { get; } = new();

    public string Name => "fnv1a";

    public ulong Hash(ReadOnlySpan<byte> key)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (byte b in key)
        {
            h ^= b;
            h *= 0x100000001b3UL;
        }

        return h;
    }
}

/// <summary>A node type that is not a string: its key comes from <see cref="ConsistentHashOptions{TNode}.NodeKeySelector"/>.</summary>
internal sealed record Server(string Name, int Connection = 0);

/// <summary>
/// Ring positions on demand: inputs starting with "low" hash to their trailing uint32 (the replica), everything else
/// to 2^64 - 1, so one node's points sit at 0, 1, 2, ... and every other point piles up at the top of the ring.
/// </summary>
internal sealed class LowOrTopHasher : IKeyHasher
{
    public string Name => "low-or-top";

    public ulong Hash(ReadOnlySpan<byte> key) =>
        key.StartsWith("low"u8) && key.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(key[^4..]) : ulong.MaxValue;
}
