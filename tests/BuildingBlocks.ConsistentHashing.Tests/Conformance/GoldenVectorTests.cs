using System.Text;
using BuildingBlocks.ConsistentHashing.Tests.Support;

namespace BuildingBlocks.ConsistentHashing.Tests.Conformance;

/// <summary>
/// Checks docs/consistent-hashing-golden-vectors.json against the library and against the reference implementations
/// of the formulas its description states. Regenerate with BB_WRITE_GOLDEN_VECTORS=1.
/// </summary>
public class GoldenVectorTests
{
    [Fact]
    public void GoldenVectors_CoverEveryHasherAndAlgorithmWithSpecialKeys()
    {
        GoldenFile file = GoldenVectors.Current;

        Assert.Equal(["xxhash3", "xxhash64", "murmur3"], file.Hashers.Select(h => h.Hasher));
        Assert.All(file.Hashers, h => Assert.Equal(
            ["ring", "ring-weighted", "jump", "rendezvous", "rendezvous-weighted", "maglev", "maglev-weighted"],
            h.Cases.Select(c => c.Name)));
        string[] keys = [.. file.Keys.Select(k => k.Key)];
        Assert.InRange(keys.Length, 40, 80);
        Assert.Contains(string.Empty, keys);
        Assert.Contains("ключ", keys);
        Assert.Contains("キー", keys);
        Assert.Contains(keys, k => k.Length > 128);
        Assert.All(file.Keys, k => Assert.Equal(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(k.Key)), k.Utf8));
        Assert.All(file.Hashers.SelectMany(h => h.Cases), c => Assert.Equal(keys, c.Vectors.Select(v => v.Key)));
        Assert.All(
            typeof(GoldenDescription).GetProperties().Where(p => p.PropertyType == typeof(string)),
            p => Assert.False(string.IsNullOrWhiteSpace((string?)p.GetValue(file.Description)), p.Name));
    }

    [Fact]
    public void GoldenVectors_KeyHashesMatchTheKeyHashers()
    {
        foreach (GoldenHasher hasher in GoldenVectors.Current.Hashers)
        {
            IKeyHasher keyHasher = KeyHashing.Resolve(GoldenVectors.KeyHashOf(hasher.Hasher));
            Assert.Equal(hasher.Hasher, keyHasher.Name);
            foreach (GoldenKeyHash keyHash in hasher.KeyHashes)
            {
                byte[] utf8 = Encoding.UTF8.GetBytes(keyHash.Key);
                Assert.Equal(keyHash.Hash, GoldenVectors.Hex(keyHasher.Hash(utf8)));
                if (hasher.Hasher == "murmur3")
                {
                    Assert.Equal(keyHash.Hash, GoldenVectors.Hex(Reference.Murmur3X64_128(utf8).H1));
                }
            }
        }
    }

    [Fact]
    public void GoldenVectors_RingPositionsFollowTheDocumentedFormulaAndTheRing()
    {
        foreach (GoldenHasher hasher in GoldenVectors.Current.Hashers)
        {
            IKeyHasher keyHasher = KeyHashing.Resolve(GoldenVectors.KeyHashOf(hasher.Hasher));
            var ring = (HashRing<string>)GoldenVectors.CreateInstance(hasher.Hasher, hasher.Cases.Single(c => c.Name == "ring"));
            int member = ring.Members.Select(m => m.Key).ToList().IndexOf(hasher.RingPositions.Node);

            Assert.Equal("node-a", hasher.RingPositions.Node);
            Assert.Equal(Enumerable.Range(0, GoldenVectors.PositionCount), hasher.RingPositions.Positions.Select(p => p.Replica));
            foreach (GoldenPosition position in hasher.RingPositions.Positions)
            {
                Assert.Equal(position.Position, GoldenVectors.Hex(Reference.RingPosition(keyHasher, hasher.RingPositions.Node, position.Replica)));
                RingPoint point = ring.Table.Points.ToArray().Single(p => p.Member == member && p.Replica == position.Replica);
                Assert.Equal(position.Position, GoldenVectors.Hex(point.Position));
            }
        }
    }

    [Fact]
    public void GoldenVectors_OwnersAndPreferenceListsMatchTheLibrary()
    {
        foreach (GoldenHasher hasher in GoldenVectors.Current.Hashers)
        {
            foreach (GoldenCase goldenCase in hasher.Cases)
            {
                ConsistentHash<string> instance = GoldenVectors.CreateInstance(hasher.Hasher, goldenCase);
                foreach (GoldenVector vector in goldenCase.Vectors)
                {
                    string where = $"{hasher.Hasher}/{goldenCase.Name}/'{vector.Key}'";
                    Assert.True(vector.Owner == instance.GetNode(vector.Key), $"{where}: owner {vector.Owner}, library {instance.GetNode(vector.Key)}");
                    Assert.Equal(vector.Preference, instance.GetNodes(vector.Key, GoldenVectors.PreferenceLength));
                    Assert.Equal(vector.Owner, vector.Preference[0]);
                    Assert.Equal(vector.Owner, instance.GetNode(Encoding.UTF8.GetBytes(vector.Key).AsSpan()));
                }
            }
        }
    }

    [Fact]
    public void GoldenVectors_OwnersAndPreferenceListsFollowTheDocumentedFormulas()
    {
        foreach (GoldenHasher hasher in GoldenVectors.Current.Hashers)
        {
            IKeyHasher keyHasher = KeyHashing.Resolve(GoldenVectors.KeyHashOf(hasher.Hasher));
            foreach (GoldenCase goldenCase in hasher.Cases)
            {
                ReferenceNode[] nodes = [.. goldenCase.Nodes.Select(n => new ReferenceNode(n.Key, n.Weight))];
                Func<ulong, string[]> model = goldenCase.Algorithm switch
                {
                    "Ring" => Ring(keyHasher, nodes, goldenCase.VirtualNodes!.Value),
                    "Jump" => k => [.. Enumerable.Range(0, GoldenVectors.PreferenceLength).Select(i => nodes[(Reference.JumpBucket(k, nodes.Length) + i) % nodes.Length].Key)],
                    "Rendezvous" => Rendezvous(keyHasher, nodes),
                    "Maglev" => Maglev(keyHasher, nodes, goldenCase.MaglevTableSize!.Value),
                    _ => throw new InvalidDataException($"Unexpected algorithm {goldenCase.Algorithm}."),
                };

                foreach (GoldenVector vector in goldenCase.Vectors)
                {
                    ulong keyHash = keyHasher.Hash(Encoding.UTF8.GetBytes(vector.Key));
                    Assert.Equal(vector.Preference, model(keyHash));
                }
            }
        }

        static Func<ulong, string[]> Ring(IKeyHasher hasher, ReferenceNode[] nodes, int virtualNodes)
        {
            var ring = new ReferenceRing(hasher, nodes, virtualNodes);
            return k => ring.GetNodes(k, GoldenVectors.PreferenceLength);
        }

        static Func<ulong, string[]> Rendezvous(IKeyHasher hasher, ReferenceNode[] nodes)
        {
            var rendezvous = new ReferenceRendezvous(hasher, nodes);
            return k => rendezvous.GetNodes(k, GoldenVectors.PreferenceLength);
        }

        static Func<ulong, string[]> Maglev(IKeyHasher hasher, ReferenceNode[] nodes, int tableSize)
        {
            var maglev = new ReferenceMaglev(hasher, nodes, tableSize);
            return k => maglev.GetNodes(k, GoldenVectors.PreferenceLength);
        }
    }

    [Fact]
    public void GoldenVectors_FileIsWhatTheGeneratorProducesToday()
    {
        // Owners above are checked semantically; this also catches a stale description or a changed key list.
        string generated = GoldenVectors.Serialize(GoldenVectors.Generate());

        Assert.Equal(generated, GoldenVectors.Serialize(GoldenVectors.Current));
    }
}
