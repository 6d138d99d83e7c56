using System.IO.Hashing;
using System.Text;
using BuildingBlocks.ConsistentHashing.Tests.Support;

namespace BuildingBlocks.ConsistentHashing.Tests.Hashing;

public class KeyHasherTests
{
    public static TheoryData<string, ulong, ulong, uint> PublishedMurmur3Vectors => new()
    {
        // MurmurHash3_x64_128 (h1, h2) from the public-domain reference, as published in Guava's Murmur3Hash128Test.
        { "hell", 0x629942693e10f867UL, 0x92db0b82baeb5347UL, 0 },
        { "hello", 0xa78ddff5adae8d10UL, 0x128900ef20900135UL, 1 },
        { "hello ", 0x8a486b23f422e826UL, 0xf962a2c58947765fUL, 2 },
        { "hello w", 0x2ea59f466f6bed8cUL, 0xc610990acc428a17UL, 3 },
        { "hello wo", 0x79f6305a386c572cUL, 0x46305aed3483b94eUL, 4 },
        { "hello wor", 0xc2219d213ec1f1b5UL, 0xa1d8e2e0a52785bdUL, 5 },
        { "The quick brown fox jumps over the lazy dog", 0xe34bbc7bbc071b6cUL, 0x7a433ca9c49a9347UL, 0 },
        { "The quick brown fox jumps over the lazy cog", 0x658ca970ff85269aUL, 0x43fee3eaa68e5c3eUL, 0 },
        { "", 0UL, 0UL, 0 },
    };

    [Theory]
    [MemberData(nameof(PublishedMurmur3Vectors))]
    public void Murmur3Reference_MatchesPublishedVectors(string input, ulong h1, ulong h2, uint seed)
    {
        Assert.Equal((h1, h2), Reference.Murmur3X64_128(Encoding.UTF8.GetBytes(input), seed));
    }

    [Theory]
    [InlineData("", 0x0000000000000000UL)]
    [InlineData("hell", 0x629942693e10f867UL)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0xe34bbc7bbc071b6cUL)]
    [InlineData("The quick brown fox jumps over the lazy cog", 0x658ca970ff85269aUL)]
    public void Murmur3KeyHasher_ReturnsTheFirstHalfOfPublishedSeedZeroVectors(string input, ulong expected)
    {
        Assert.Equal(expected, Murmur3KeyHasher.Instance.Hash(Encoding.UTF8.GetBytes(input)));
    }

    [Fact]
    public void Murmur3KeyHasher_MatchesTheReferenceForEveryLengthUpToAHundred()
    {
        var random = new Random(3);
        for (int length = 0; length <= 100; length++)
        {
            for (int sample = 0; sample < 20; sample++)
            {
                byte[] data = new byte[length];
                random.NextBytes(data);
                Assert.Equal(Reference.Murmur3X64_128(data).H1, Murmur3KeyHasher.Instance.Hash(data));
            }
        }
    }

    [Fact]
    public void XxHash3KeyHasher_IsSystemIoHashingXxHash3WithSeedZero()
    {
        var random = new Random(4);
        for (int length = 0; length <= 300; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(XxHash3.HashToUInt64(data), XxHash3KeyHasher.Instance.Hash(data));
        }

        Assert.Equal("xxhash3", XxHash3KeyHasher.Instance.Name);
    }

    [Fact]
    public void XxHash64KeyHasher_IsSystemIoHashingXxHash64WithSeedZero()
    {
        var random = new Random(5);
        for (int length = 0; length <= 300; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(XxHash64.HashToUInt64(data), XxHash64KeyHasher.Instance.Hash(data));
        }

        Assert.Equal("xxhash64", XxHash64KeyHasher.Instance.Name);
        Assert.Equal("murmur3", Murmur3KeyHasher.Instance.Name);
    }

    [Theory]
    [InlineData(KeyHashAlgorithm.XxHash3)]
    [InlineData(KeyHashAlgorithm.XxHash64)]
    [InlineData(KeyHashAlgorithm.Murmur3)]
    public void HashString_OfKeysOnBothSidesOfTheStackBuffer_EqualsHashingTheirUtf8Bytes(KeyHashAlgorithm algorithm)
    {
        IKeyHasher hasher = KeyHashing.Resolve(algorithm);
        string[] keys =
        [
            string.Empty,
            new string('a', 127),
            new string('a', 128),
            new string('a', 129),
            new string('€', 128), // 384 UTF-8 bytes: exactly the stack buffer
            new string('€', 129),
            string.Concat(Enumerable.Repeat("🔑", 64)), // 128 chars, 256 bytes
            string.Concat(Enumerable.Repeat("🔑", 65)),
            new string('é', 5_000) + "ключ",
        ];

        foreach (string key in keys)
        {
            Assert.Equal(hasher.Hash(Encoding.UTF8.GetBytes(key)), KeyHashing.HashString(hasher, key));
        }
    }

    [Theory]
    [InlineData("\uD800")]
    [InlineData("a\uDC00b")]
    [InlineData("\uDBFF\uDBFF")]
    public void HashString_OfLoneSurrogates_HashesThemAsReplacementCharacters(string key)
    {
        string replaced = key.Replace('\uD800', '\uFFFD').Replace('\uDC00', '\uFFFD').Replace('\uDBFF', '\uFFFD');

        Assert.Equal(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(replaced)), KeyHashing.HashString(XxHash3KeyHasher.Instance, key));
        string longKey = key + new string('x', 200);
        string longReplaced = replaced + new string('x', 200);
        Assert.Equal(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(longReplaced)), KeyHashing.HashString(XxHash3KeyHasher.Instance, longKey));
    }

    [Theory]
    [InlineData("node-a", 0)]
    [InlineData("node-a", 1)]
    [InlineData("node-a", 0x01020304)]
    [InlineData("ключ", 159)]
    [InlineData("x", int.MaxValue)]
    public void PointPosition_HashesUtf8KeyThenZeroByteThenLittleEndianReplica(string nodeKey, int replica)
    {
        byte[] buffer = KeyHashing.CreatePointBuffer(nodeKey);
        byte[] expected = [.. Encoding.UTF8.GetBytes(nodeKey), 0, (byte)replica, (byte)(replica >> 8), (byte)(replica >> 16), (byte)(replica >> 24)];

        foreach (IKeyHasher hasher in new IKeyHasher[] { XxHash3KeyHasher.Instance, XxHash64KeyHasher.Instance, Murmur3KeyHasher.Instance })
        {
            Assert.Equal(hasher.Hash(expected), KeyHashing.PointPosition(hasher, buffer, replica));
            Assert.Equal(Reference.RingPosition(hasher, nodeKey, replica), KeyHashing.PointPosition(hasher, buffer, replica));
        }
    }

    [Fact]
    public void Resolve_OfAnUndefinedAlgorithm_ThrowsArgumentOutOfRangeException()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyHashing.Resolve((KeyHashAlgorithm)42));
    }

    [Fact]
    public void Fmix64_IsMurmur3sFinalizer()
    {
        var random = new Random(6);
        for (int i = 0; i < 1_000; i++)
        {
            ulong value = (ulong)random.NextInt64();
            Assert.Equal(Reference.Fmix64(value), Mixer.Fmix64(value));
        }

        Assert.Equal(0UL, Mixer.Fmix64(0));
    }
}
