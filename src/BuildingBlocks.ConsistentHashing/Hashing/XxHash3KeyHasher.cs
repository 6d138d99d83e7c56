using System.IO.Hashing;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>XXH3 64-bit with seed 0. The default key hasher.</summary>
public sealed class XxHash3KeyHasher : IKeyHasher
{
    /// <summary>The shared instance.</summary>
    public static XxHash3KeyHasher Instance { get; } = new();

    private XxHash3KeyHasher()
    {
    }

    /// <inheritdoc />
    public string Name => "xxhash3";

    /// <inheritdoc />
    public ulong Hash(ReadOnlySpan<byte> key) => XxHash3.HashToUInt64(key);
}
