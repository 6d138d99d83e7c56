using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>String hashing and node-position derivation shared by every algorithm.</summary>
internal static class KeyHashing
{
    // Keys up to this many UTF-16 chars are encoded on the stack (3 bytes per char at most).
    private const int StackChars = 128;

    public static IKeyHasher Resolve(KeyHashAlgorithm algorithm) => algorithm switch
    {
        KeyHashAlgorithm.XxHash3 => XxHash3KeyHasher.Instance,
        KeyHashAlgorithm.XxHash64 => XxHash64KeyHasher.Instance,
        KeyHashAlgorithm.Murmur3 => Murmur3KeyHasher.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown key hash algorithm."),
    };

    /// <summary>Hashes the UTF-8 bytes of <paramref name="key"/> (invalid surrogates become U+FFFD).</summary>
    public static ulong HashString(IKeyHasher hasher, string key)
    {
        if (key.Length <= StackChars)
        {
            Span<byte> buffer = stackalloc byte[StackChars * 3];
            int written = Encoding.UTF8.GetBytes(key, buffer);
            return hasher.Hash(buffer.Slice(0, written));
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(key.Length));
        try
        {
            int written = Encoding.UTF8.GetBytes(key, rented);
            return hasher.Hash(rented.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Position seed bytes of a node: UTF-8(node key) ‖ 0x00 ‖ replica (uint32 little-endian).
    /// The fixed 5-byte suffix keeps the encoding injective whatever the key contains.
    /// </summary>
    public static byte[] CreatePointBuffer(string nodeKey)
    {
        int keyBytes = Encoding.UTF8.GetByteCount(nodeKey);
        byte[] buffer = new byte[keyBytes + 5];
        Encoding.UTF8.GetBytes(nodeKey, buffer);
        return buffer;
    }

    /// <summary>The ring position of virtual node <paramref name="replica"/>; <paramref name="buffer"/> comes from <see cref="CreatePointBuffer"/>.</summary>
    public static ulong PointPosition(IKeyHasher hasher, byte[] buffer, int replica)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(buffer.Length - 4), (uint)replica);
        return hasher.Hash(buffer);
    }
}
