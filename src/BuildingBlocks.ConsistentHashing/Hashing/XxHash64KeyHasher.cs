using System.IO.Hashing;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>XXH64 with seed 0.</summary>
public sealed class XxHash64KeyHasher : IKeyHasher
{
    /// <summary>The shared instance.</summary>
    public static XxHash64KeyHasher Instance { get; } = new();

    private XxHash64KeyHasher()
    {
    }

    /// <inheritdoc />
    public string Name => "xxhash64";

    /// <inheritdoc />
    public ulong Hash(ReadOnlySpan<byte> key) => XxHash64.HashToUInt64(key);
}
