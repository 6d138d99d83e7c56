using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BuildingBlocks.ConsistentHashing.Tests.Conformance;

/// <summary>
/// docs/consistent-hashing-golden-vectors.json: the file other-language implementations check themselves against.
/// <see cref="Generate"/> builds it from the library; set BB_WRITE_GOLDEN_VECTORS=1 to (re)write it.
/// </summary>
internal static class GoldenVectors
{
    public const string WriteVariable = "BB_WRITE_GOLDEN_VECTORS";
    public const string RepositoryPath = "docs/consistent-hashing-golden-vectors.json";
    public const string OutputFileName = "golden-vectors.json";
    public const string PositionNode = "node-a";
    public const int PositionCount = 10;
    public const int PreferenceLength = 3;
    public const int VirtualNodes = 160;
    public const int MaglevTableSize = 65_537;

    public static readonly string[] NodeKeys = ["node-a", "node-b", "node-c", "node-d", "node-e"];

    public static readonly string[] Keys =
    [
        string.Empty,
        "a",
        "b",
        "z",
        "A",
        "0",
        "42",
        "key",
        "Key",
        " key",
        "key ",
        "user:0",
        "user:1",
        "user:2",
        "user:3",
        "user:42",
        "user:1000",
        "session:9f8e7d6c",
        "order/2024/000017",
        "cart-7",
        "product-12345",
        "tenant=acme;id=7",
        "hell",
        "hello",
        "The quick brown fox jumps over the lazy dog",
        "0123456789abcde",
        "0123456789abcdef",
        "0123456789abcdefg",
        "0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdefX",
        "ключ",
        "キー",
        "键",
        "clé",
        "Straße",
        "ελληνικά",
        "עברית",
        "🔑",
        "emoji 🔑 key",
        "\t",
        "line\nbreak",
        "nul\0byte",
        "~!@#$%^&*()_+{}|:\"<>?",
        new string('x', 200),
        string.Concat(Enumerable.Repeat("ключ-", 60)),
        "node-a",
        "node-c",
        "last key",
    ];

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
    };

    private static readonly Lazy<(GoldenFile? File, string Problem)> Loaded = new(Load);

    /// <summary>The file: freshly generated and written when BB_WRITE_GOLDEN_VECTORS=1, else read from the test output.</summary>
    public static GoldenFile Current
    {
        get
        {
            (GoldenFile? file, string problem) = Loaded.Value;
            Assert.True(file is not null, problem);
            return file!;
        }
    }

    public static KeyHashAlgorithm KeyHashOf(string hasherName) => hasherName switch
    {
        "xxhash3" => KeyHashAlgorithm.XxHash3,
        "xxhash64" => KeyHashAlgorithm.XxHash64,
        "murmur3" => KeyHashAlgorithm.Murmur3,
        _ => throw new ArgumentOutOfRangeException(nameof(hasherName), hasherName, "Unknown hasher in the golden vectors."),
    };

    public static ConsistentHash<string> CreateInstance(string hasherName, GoldenCase goldenCase)
    {
        var options = new ConsistentHashOptions<string>
        {
            Algorithm = Enum.Parse<ConsistentHashAlgorithm>(goldenCase.Algorithm),
            KeyHash = KeyHashOf(hasherName),
            VirtualNodes = goldenCase.VirtualNodes ?? ConsistentHashOptions<string>.DefaultVirtualNodes,
            MaglevTableSize = goldenCase.MaglevTableSize ?? ConsistentHashOptions<string>.DefaultMaglevTableSize,
        };
        foreach (GoldenNode node in goldenCase.Nodes)
        {
            options.Nodes.Add(new WeightedNode<string>(node.Key, node.Weight));
        }

        return ConsistentHash.Create(options);
    }

    public static string Hex(ulong value) => value.ToString("x16", CultureInfo.InvariantCulture);

    public static GoldenFile Generate()
    {
        var hashers = new List<GoldenHasher>();
        foreach (string hasherName in new[] { "xxhash3", "xxhash64", "murmur3" })
        {
            IKeyHasher hasher = KeyHashing.Resolve(KeyHashOf(hasherName));
            var cases = new List<GoldenCase>
            {
                NewCase("ring", ConsistentHashAlgorithm.Ring, weighted: false),
                NewCase("ring-weighted", ConsistentHashAlgorithm.Ring, weighted: true),
                NewCase("jump", ConsistentHashAlgorithm.Jump, weighted: false),
                NewCase("rendezvous", ConsistentHashAlgorithm.Rendezvous, weighted: false),
                NewCase("rendezvous-weighted", ConsistentHashAlgorithm.Rendezvous, weighted: true),
                NewCase("maglev", ConsistentHashAlgorithm.Maglev, weighted: false),
                NewCase("maglev-weighted", ConsistentHashAlgorithm.Maglev, weighted: true),
            };

            foreach (GoldenCase goldenCase in cases)
            {
                ConsistentHash<string> instance = CreateInstance(hasherName, goldenCase);
                foreach (string key in Keys)
                {
                    goldenCase.Vectors.Add(new GoldenVector { Key = key, Owner = instance.GetNode(key), Preference = [.. instance.GetNodes(key, PreferenceLength)] });
                }
            }

            byte[] pointBuffer = KeyHashing.CreatePointBuffer(PositionNode);
            hashers.Add(new GoldenHasher
            {
                Hasher = hasher.Name,
                KeyHashes = [.. Keys.Select(k => new GoldenKeyHash { Key = k, Hash = Hex(KeyHashing.HashString(hasher, k)) })],
                RingPositions = new GoldenPositions
                {
                    Node = PositionNode,
                    Positions = [.. Enumerable.Range(0, PositionCount).Select(r => new GoldenPosition { Replica = r, Position = Hex(KeyHashing.PointPosition(hasher, pointBuffer, r)) })],
                },
                Cases = cases,
            });
        }

        return new GoldenFile
        {
            Description = GoldenDescription.Text,
            Keys = [.. Keys.Select(k => new GoldenKey { Key = k, Utf8 = Convert.ToHexStringLower(Encoding.UTF8.GetBytes(k)) })],
            Hashers = hashers,
        };

        static GoldenCase NewCase(string name, ConsistentHashAlgorithm algorithm, bool weighted) => new()
        {
            Name = name,
            Algorithm = algorithm.ToString(),
            VirtualNodes = algorithm == ConsistentHashAlgorithm.Ring ? VirtualNodes : null,
            MaglevTableSize = algorithm == ConsistentHashAlgorithm.Maglev ? MaglevTableSize : null,
            Nodes = [.. NodeKeys.Select(n => new GoldenNode { Key = n, Weight = weighted && n == "node-c" ? 2.0 : 1.0 })],
            Vectors = [],
        };
    }

    public static string Serialize(GoldenFile file) => JsonSerializer.Serialize(file, JsonOptions) + "\n";

    public static GoldenFile Deserialize(string json) =>
        JsonSerializer.Deserialize<GoldenFile>(json, JsonOptions) ?? throw new InvalidDataException("The golden vector file is empty.");

    private static (GoldenFile? File, string Problem) Load()
    {
        if (Environment.GetEnvironmentVariable(WriteVariable) == "1")
        {
            string text = Serialize(Generate());
            File.WriteAllText(Path.Combine(FindRepositoryRoot(), RepositoryPath), text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return (Deserialize(text), string.Empty);
        }

        string path = Path.Combine(AppContext.BaseDirectory, OutputFileName);
        if (!File.Exists(path))
        {
            return (null, $"{path} is missing: the test project copies {RepositoryPath} there at build time. Generate it with {WriteVariable}=1 dotnet test --project tests/BuildingBlocks.ConsistentHashing.Tests, then rebuild.");
        }

        return (Deserialize(File.ReadAllText(path)), string.Empty);
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BuildingBlocks.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No BuildingBlocks.sln above {AppContext.BaseDirectory}.");
    }
}

internal sealed class GoldenFile
{
    public required GoldenDescription Description { get; init; }

    public required List<GoldenKey> Keys { get; init; }

    public required List<GoldenHasher> Hashers { get; init; }
}

internal sealed class GoldenKey
{
    public required string Key { get; init; }

    public required string Utf8 { get; init; }
}

internal sealed class GoldenHasher
{
    public required string Hasher { get; init; }

    public required List<GoldenKeyHash> KeyHashes { get; init; }

    public required GoldenPositions RingPositions { get; init; }

    public required List<GoldenCase> Cases { get; init; }
}

internal sealed class GoldenKeyHash
{
    public required string Key { get; init; }

    public required string Hash { get; init; }
}

internal sealed class GoldenPositions
{
    public required string Node { get; init; }

    public required List<GoldenPosition> Positions { get; init; }
}

internal sealed class GoldenPosition
{
    public required int Replica { get; init; }

    public required string Position { get; init; }
}

internal sealed class GoldenCase
{
    public required string Name { get; init; }

    public required string Algorithm { get; init; }

    public int? VirtualNodes { get; init; }

    public int? MaglevTableSize { get; init; }

    public required List<GoldenNode> Nodes { get; init; }

    public required List<GoldenVector> Vectors { get; init; }
}

internal sealed class GoldenNode
{
    public required string Key { get; init; }

    public required double Weight { get; init; }
}

internal sealed class GoldenVector
{
    public required string Key { get; init; }

    public required string Owner { get; init; }

    public required List<string> Preference { get; init; }
}

/// <summary>The formulas an implementer needs, written out in the file itself.</summary>
internal sealed class GoldenDescription
{
    public static GoldenDescription Text { get; } = new()
    {
        Purpose = "Golden vectors for BuildingBlocks.ConsistentHashing. An implementation in another language that reproduces every key hash, ring position, owner and preference list in this file places keys exactly like the .NET library, so services written in different languages agree on key ownership. The file is generated by the library's test suite (BB_WRITE_GOLDEN_VECTORS=1 dotnet test --project tests/BuildingBlocks.ConsistentHashing.Tests) and every entry is checked against the library and against independent implementations of the formulas below on every test run.",
        Notation = "Hashes and positions are unsigned 64-bit integers written as 16 lowercase hex digits, most significant digit first. Arithmetic on them is modulo 2^64. '++' is byte concatenation. UTF-8(s) is the UTF-8 encoding of s with no byte-order mark and no terminator; an unpaired UTF-16 surrogate is encoded as U+FFFD (EF BF BD). fmix64(k) is MurmurHash3's 64-bit finalizer: k ^= k >> 33; k *= 0xff51afd7ed558ccd; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53; k ^= k >> 33.",
        Hashers = "hash(bytes) is one of: 'xxhash3' = XXH3 64-bit (XXH3_64bits, seed 0, default secret); 'xxhash64' = XXH64 with seed 0; 'murmur3' = MurmurHash3_x64_128 with seed 0, of which only h1, the first 64-bit half, is used (blocks are read little-endian; h1 is the first 8 bytes of the canonical 16-byte digest read as a little-endian integer; the empty input hashes to 0). The hash of a string key is keyHash = hash(UTF-8(key)); 'keyHashes' lists it for every key.",
        Members = "A node is identified by its node key, a non-empty string. Except for Jump, members are ordered by ordinal comparison of their keys as sequences of UTF-16 code units (for ASCII keys this is byte order) and a member's index is its position in that order. In each case, 'nodes' lists the members in that order (Jump: in bucket order) with their relative weights.",
        Ring = "Cases 'ring' and 'ring-weighted', virtualNodes = 160. A member of weight w has v = max(1, round(virtualNodes * w)) virtual nodes, rounding halves away from zero (and at most 33554431). Virtual node r (0 <= r < v) of the member with key K sits at position(K, r) = hash(UTF-8(K) ++ 0x00 ++ uint32-little-endian(r)); 'ringPositions' gives position('node-a', r) for r = 0..9. All virtual nodes are sorted by (position, member index, r). Collision rule (no collision occurs in these vectors, but it is part of the algorithm): walking the sorted list from the second entry, a point whose position is not greater than the previous point's (already adjusted) position moves to previous + 1; if the previous position is 2^64 - 1, that point and every later point instead take, in list order, the smallest positions from 0 upwards that no earlier point holds, and the list is sorted again by (position, member index, r). Every virtual node is kept and positions end up strictly increasing. The owner of keyHash k is the member of the first point whose position is >= k, or of the first point of the list when there is none (wrap-around). The preference list walks the points from that point onwards, wrapping, and keeps each member the first time it is met.",
        Jump = "Case 'jump'. The members are buckets 0..n-1 in the order of 'nodes', which is the order in which they were added; weights must be 1. bucket(k, n) is Jump consistent hash (Lamping and Veach, 2014): b = -1; j = 0; while (j < n) { b = j; k = k * 2862933555777941757 + 1 (mod 2^64); j = floor((b + 1) * (2^31 / ((k >> 33) + 1))) }; return b - where the division and the product are IEEE-754 double-precision operations on (double)(b + 1) and (double)((k >> 33) + 1). The owner is nodes[bucket(keyHash, n)]. The preference list is the owner's bucket followed by the next buckets, wrapping: nodes[(b + i) mod n] for i = 0, 1, 2, ...",
        Rendezvous = "Cases 'rendezvous' and 'rendezvous-weighted'. For member i with key K_i: h_i = hash(UTF-8(K_i)) and s_i = fmix64(keyHash XOR h_i). When every weight is exactly 1, the score of member i is s_i compared as an unsigned integer. When any weight differs from 1, every member's score is the double w_i / -ln(u_i) with u_i = ((s_i >> 11) + 0.5) / 2^53, in IEEE-754 double precision with the natural logarithm. The owner is the member with the highest score; ties go to the lower member index. The preference list is the members in descending score order, ties by ascending member index.",
        Maglev = "Cases 'maglev' and 'maglev-weighted', table size M = 65537 (a prime). For member i, in member order, with h = hash(UTF-8(K_i)): offset_i = h mod M, skip_i = (fmix64(h) mod (M - 1)) + 1, and its j-th preferred slot is (offset_i + j * skip_i) mod M for j = 0, 1, 2, ... share_i = w_i / max(w) as a double; credit_i starts at 1 - share_i, so every member takes one slot in the first round however small its weight. The table starts with every slot empty and is filled in rounds: in each round, for each member i in order, credit_i += share_i, then while credit_i >= 1: credit_i -= 1 and member i takes its next preferred slot that is still empty (j advances past every slot it probes and is never reset). Filling stops the moment the last slot is taken, even within a round. The owner of keyHash k is table[floor(k * M / 2^64)], that is the high 64 bits of the 128-bit product k * M. The preference list is the owner followed by the distinct members of the following slots, slot + 1, slot + 2, ..., wrapping around the table.",
        NotIncluded = "BoundedLoad has no vectors: its owners depend on the load placed at run time, not only on the membership. Its ring is the 'ring' algorithm above; a key goes to the first member clockwise whose load is below ceil((1 + epsilon) * (totalLoad + 1) / n).",
        Layout = "'keys' lists every key with its UTF-8 bytes in hex. 'hashers' has one entry per key hasher with 'keyHashes' (keyHash of every key), 'ringPositions' (position('node-a', r) for r = 0..9) and 'cases'. Each case names the algorithm and its parameters, lists the members ('nodes': key and weight) and has one vector per key: 'owner' (GetNode(key)) and 'preference' (GetNodes(key, 3), whose first entry is the owner). All five nodes are 'node-a' .. 'node-e'; in the weighted cases 'node-c' has weight 2.",
    };

    public required string Purpose { get; init; }

    public required string Notation { get; init; }

    public required string Hashers { get; init; }

    public required string Members { get; init; }

    public required string Ring { get; init; }

    public required string Jump { get; init; }

    public required string Rendezvous { get; init; }

    public required string Maglev { get; init; }

    public required string NotIncluded { get; init; }

    public required string Layout { get; init; }
}
