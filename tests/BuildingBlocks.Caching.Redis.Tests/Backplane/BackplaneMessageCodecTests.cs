using System.Buffers.Binary;
using System.Text;
using BuildingBlocks.Caching.Redis.Tests.Support;

namespace BuildingBlocks.Caching.Redis.Tests.Backplane;

/// <summary>The wire format: round trips, its exact layout, and every way a payload can be malformed.</summary>
public sealed class BackplaneMessageCodecTests
{
    public static TheoryData<string, string, BackplaneMessageKind, long, long> Messages() => new()
    {
        { "users", "\"user-1\"", BackplaneMessageKind.Invalidate, 1, 1 },
        { "prices", "{\"sku\":\"ü-€-😀\"}", BackplaneMessageKind.Invalidate, long.MaxValue, long.MinValue },
        { "sessions", string.Empty, BackplaneMessageKind.Clear, 42, 0 },
        { string.Empty, string.Empty, BackplaneMessageKind.Heartbeat, 0, -1 },
        { new string('c', 300), new string('k', 20_000), BackplaneMessageKind.Invalidate, 128, 16_384 },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void Encode_ThenTryDecode_GivesTheSameMessage(string cache, string key, BackplaneMessageKind kind, long sequence, long version)
    {
        var message = new BackplaneMessage(Guid.NewGuid(), sequence, cache, Encoding.UTF8.GetBytes(key), version, kind);

        byte[] payload = BackplaneMessageCodec.Encode(message);
        bool decoded = BackplaneMessageCodec.TryDecode(payload, out BackplaneMessage? result, out string? error);

        Assert.True(decoded, error);
        Assert.Null(error);
        Backplanes.Same(message, result!);
    }

    [Fact]
    public void Encode_WritesTheDocumentedLayout()
    {
        var source = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var message = new BackplaneMessage(source, 0x0102030405060708, "ab", new byte[] { 0x22, 0x78, 0x22 }, -2, BackplaneMessageKind.Clear);

        byte[] payload = BackplaneMessageCodec.Encode(message);

        Assert.Equal(BackplaneMessageCodec.HeaderSize + 1 + 2 + 1 + 3, payload.Length);
        Assert.Equal(1, payload[0]);
        Assert.Equal(1, payload[1]);
        Assert.Equal(source.ToByteArray(), payload[2..18]);
        Assert.Equal(0x0102030405060708, BinaryPrimitives.ReadInt64LittleEndian(payload.AsSpan(18)));
        Assert.Equal(-2, BinaryPrimitives.ReadInt64LittleEndian(payload.AsSpan(26)));
        Assert.Equal(new byte[] { 2, (byte)'a', (byte)'b', 3, 0x22, 0x78, 0x22 }, payload[34..]);
    }

    [Fact]
    public void Encode_LengthsOf128AndMore_TakeMoreThanOneByte()
    {
        var message = new BackplaneMessage(Guid.Empty, 1, new string('n', 200), new byte[70_000], 1, BackplaneMessageKind.Invalidate);

        byte[] payload = BackplaneMessageCodec.Encode(message);

        Assert.Equal(BackplaneMessageCodec.HeaderSize + 2 + 200 + 3 + 70_000, payload.Length);
        Assert.Equal(new byte[] { 0xC8, 0x01 }, payload[34..36]);
    }

    [Fact]
    public void Encode_UnknownKind_Throws()
    {
        var message = new BackplaneMessage(Guid.Empty, 1, "users", ReadOnlyMemory<byte>.Empty, 1, (BackplaneMessageKind)99);

        var error = Assert.Throws<ArgumentException>(() => BackplaneMessageCodec.Encode(message));

        Assert.Contains("Kind", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[], string> Malformed()
    {
        byte[] valid = BackplaneMessageCodec.Encode(new BackplaneMessage(Guid.NewGuid(), 5, "users", "\"k\""u8.ToArray(), 9, BackplaneMessageKind.Invalidate));
        return new TheoryData<string, byte[], string>
        {
            { "empty", [], "shorter" },
            { "text", "hello, not a message at all"u8.ToArray(), "shorter" },
            { "one byte short", valid[..^1], "key length" },
            { "header only", valid[..BackplaneMessageCodec.HeaderSize], "shorter" },
            { "trailing byte", [.. valid, 0], "follow the key" },
            { "format version 2", With(valid, 0, 2), "format version is 2" },
            { "format version 0", With(valid, 0, 0), "format version is 0" },
            { "unknown kind", With(valid, 1, 9), "kind 9" },
            { "name length past the end", With(valid, 34, 120), "cache name length" },
            { "unterminated name length", [.. valid[..34], 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], "cache name length" },
            { "name length over 31 bits", [.. valid[..34], 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00], "cache name length" },
            { "invalid UTF-8 name", [.. valid[..34], 2, 0xC3, 0x28, 0], "UTF-8" },
            { "key length past the end", [.. valid[..34], 0, 5, 1, 2], "key length" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryDecode_Malformed_ReturnsFalseWithTheReason(string name, byte[] payload, string reason)
    {
        bool decoded = BackplaneMessageCodec.TryDecode(payload, out BackplaneMessage? message, out string? error);

        Assert.False(decoded, name);
        Assert.Null(message);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    private static byte[] With(byte[] bytes, int index, byte value)
    {
        byte[] copy = [.. bytes];
        copy[index] = value;
        return copy;
    }
}
