using System.Buffers.Binary;
using System.Numerics;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// MurmurHash3 x64 128-bit with seed 0, returning the first 64-bit half (h1), little-endian block reads.
/// </summary>
/// <remarks>System.IO.Hashing has no Murmur3, so it is written here from the public-domain reference algorithm.</remarks>
public sealed class Murmur3KeyHasher : IKeyHasher
{
    private const ulong C1 = 0x87c37b91114253d5UL;
    private const ulong C2 = 0x4cf5ad432745937fUL;

    /// <summary>The shared instance.</summary>
    public static Murmur3KeyHasher Instance { get; } = new();

    private Murmur3KeyHasher()
    {
    }

    /// <inheritdoc />
    public string Name => "murmur3";

    /// <inheritdoc />
    public ulong Hash(ReadOnlySpan<byte> key)
    {
        ulong h1 = 0;
        ulong h2 = 0;
        int blocks = key.Length / 16;

        for (int i = 0; i < blocks; i++)
        {
            ulong k1 = BinaryPrimitives.ReadUInt64LittleEndian(key.Slice(i * 16));
            ulong k2 = BinaryPrimitives.ReadUInt64LittleEndian(key.Slice((i * 16) + 8));

            k1 *= C1; k1 = BitOperations.RotateLeft(k1, 31); k1 *= C2; h1 ^= k1;
            h1 = BitOperations.RotateLeft(h1, 27); h1 += h2; h1 = (h1 * 5) + 0x52dce729;

            k2 *= C2; k2 = BitOperations.RotateLeft(k2, 33); k2 *= C1; h2 ^= k2;
            h2 = BitOperations.RotateLeft(h2, 31); h2 += h1; h2 = (h2 * 5) + 0x38495ab5;
        }

        ReadOnlySpan<byte> tail = key.Slice(blocks * 16);
        ulong t1 = 0;
        ulong t2 = 0;
        for (int i = tail.Length - 1; i >= 8; i--)
        {
            t2 = (t2 << 8) | tail[i];
        }

        for (int i = Math.Min(tail.Length, 8) - 1; i >= 0; i--)
        {
            t1 = (t1 << 8) | tail[i];
        }

        if (tail.Length > 8)
        {
            t2 *= C2; t2 = BitOperations.RotateLeft(t2, 33); t2 *= C1; h2 ^= t2;
        }

        if (tail.Length > 0)
        {
            t1 *= C1; t1 = BitOperations.RotateLeft(t1, 31); t1 *= C2; h1 ^= t1;
        }

        h1 ^= (ulong)key.Length;
        h2 ^= (ulong)key.Length;
        h1 += h2;
        h2 += h1;
        h1 = Mixer.Fmix64(h1);
        h2 = Mixer.Fmix64(h2);
        h1 += h2;
        return h1;
    }
}
