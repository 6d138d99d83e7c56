using System.Buffers.Binary;
using System.Text;

namespace BuildingBlocks.Caching.Redis;

/// <summary>
/// The wire format of a <see cref="BackplaneMessage"/> on the Redis channel, little-endian:
/// <code>
/// offset  size  field
///      0     1  format version (1)
///      1     1  kind (0 invalidate, 1 clear, 2 heartbeat, 3 invalidate in L1 and L2)
///      2    16  source node (Guid bytes)
///     18     8  sequence (int64)
///     26     8  version (int64)
///     34   1-5  cache name length (unsigned LEB128), then the name in UTF-8
///      …   1-5  key length (unsigned LEB128), then the key bytes (UTF-8 JSON)
/// </code>
/// Nothing may follow the key. A reader refuses any other format version, so a format change ships as version 2 and
/// old nodes log and ignore what they cannot read instead of misreading it.
/// </summary>
internal static class BackplaneMessageCodec
{
    /// <summary>The format version this code writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The fixed part: version, kind, source node, sequence, version.</summary>
    public const int HeaderSize = 1 + 1 + 16 + 8 + 8;

    /// <summary>The smallest valid message: the header and two zero lengths.</summary>
    public const int MinimumSize = HeaderSize + 2;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes a message.</summary>
    /// <exception cref="ArgumentException">The kind is not one this format knows.</exception>
    public static byte[] Encode(BackplaneMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(message.CacheName, nameof(message));
        if ((int)message.Kind is < 0 or > byte.MaxValue || !IsKnownKind((byte)message.Kind))
        {
            throw new ArgumentException($"BackplaneMessage.Kind is {message.Kind}; the Redis backplane carries Invalidate, Clear, Heartbeat and InvalidateIncludingDistributed.", nameof(message));
        }

        int nameLength = Encoding.UTF8.GetByteCount(message.CacheName);
        int keyLength = message.Key.Length;
        long size = (long)HeaderSize + VarIntSize(nameLength) + nameLength + VarIntSize(keyLength) + keyLength;
        if (size > Array.MaxLength)
        {
            throw new ArgumentException($"The backplane message of cache '{message.CacheName}' would be {size} bytes; its key is too large.", nameof(message));
        }

        byte[] buffer = new byte[size];
        Span<byte> span = buffer;
        span[0] = FormatVersion;
        span[1] = (byte)message.Kind;
        _ = message.SourceNode.TryWriteBytes(span.Slice(2, 16));
        BinaryPrimitives.WriteInt64LittleEndian(span.Slice(18, 8), message.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span.Slice(26, 8), message.Version);
        int offset = HeaderSize;
        offset += WriteVarInt(span[offset..], (uint)nameLength);
        offset += Encoding.UTF8.GetBytes(message.CacheName, span[offset..]);
        offset += WriteVarInt(span[offset..], (uint)keyLength);
        message.Key.Span.CopyTo(span[offset..]);
        return buffer;
    }

    /// <summary>Decodes a message, or says why the bytes are not one.</summary>
    /// <param name="payload">The bytes received.</param>
    /// <param name="message">The message, when the bytes are one.</param>
    /// <param name="error">Why they are not, otherwise.</param>
    /// <returns>Whether <paramref name="payload"/> is a valid message.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> payload, out BackplaneMessage? message, out string? error)
    {
        message = null;
        if (payload.Length < MinimumSize)
        {
            error = $"it is shorter than the {MinimumSize}-byte minimum";
            return false;
        }

        if (payload[0] != FormatVersion)
        {
            error = $"its format version is {payload[0]}; this node reads version {FormatVersion} (a node of another release sent it?)";
            return false;
        }

        byte kind = payload[1];
        if (!IsKnownKind(kind))
        {
            error = $"its kind {kind} is unknown";
            return false;
        }

        var sourceNode = new Guid(payload.Slice(2, 16));
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(payload.Slice(18, 8));
        long version = BinaryPrimitives.ReadInt64LittleEndian(payload.Slice(26, 8));
        ReadOnlySpan<byte> rest = payload[HeaderSize..];

        if (!TryReadLength(ref rest, out int nameLength))
        {
            error = "its cache name length is malformed or runs past the end";
            return false;
        }

        string cacheName;
        try
        {
            cacheName = StrictUtf8.GetString(rest[..nameLength]);
        }
        catch (DecoderFallbackException)
        {
            error = "its cache name is not valid UTF-8";
            return false;
        }

        rest = rest[nameLength..];
        if (!TryReadLength(ref rest, out int keyLength))
        {
            error = "its key length is malformed or runs past the end";
            return false;
        }

        if (rest.Length != keyLength)
        {
            error = $"{rest.Length - keyLength} bytes follow the key";
            return false;
        }

        byte[] key = keyLength == 0 ? [] : rest.ToArray();
        message = new BackplaneMessage(sourceNode, sequence, cacheName, key, version, (BackplaneMessageKind)kind);
        error = null;
        return true;
    }

    private static bool IsKnownKind(byte kind) =>
        kind is (byte)BackplaneMessageKind.Invalidate or (byte)BackplaneMessageKind.Clear or (byte)BackplaneMessageKind.Heartbeat
            or (byte)BackplaneMessageKind.InvalidateIncludingDistributed;

    private static int VarIntSize(int value)
    {
        int size = 1;
        for (uint v = (uint)value; v >= 0x80; v >>= 7)
        {
            size++;
        }

        return size;
    }

    private static int WriteVarInt(Span<byte> destination, uint value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads an unsigned LEB128 length (at most 5 bytes, at most <see cref="int.MaxValue"/>) that fits in what follows it.</summary>
    private static bool TryReadLength(ref ReadOnlySpan<byte> span, out int length)
    {
        length = 0;
        uint value = 0;
        for (int i = 0; i < 5; i++)
        {
            if (i >= span.Length)
            {
                return false;
            }

            byte b = span[i];
            if (i == 4 && b > 0x07)
            {
                // More than 31 bits.
                return false;
            }

            value |= (uint)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                span = span[(i + 1)..];
                if (value > (uint)span.Length)
                {
                    return false;
                }

                length = (int)value;
                return true;
            }
        }

        return false;
    }
}
