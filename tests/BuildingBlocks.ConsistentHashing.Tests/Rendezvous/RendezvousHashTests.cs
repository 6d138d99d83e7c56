using BuildingBlocks.ConsistentHashing.Tests.Support;

namespace BuildingBlocks.ConsistentHashing.Tests.Rendezvous;

public class RendezvousHashTests
{
    [Fact]
    public void GetNodes_AreTheNodesInDescendingScoreOrder()
    {
        ReferenceNode[] nodes = [.. TestKeys.Nodes(9).Select(n => new ReferenceNode(n))];
        RendezvousHash<string> hash = Create(nodes);
        var model = new ReferenceRendezvous(XxHash3KeyHasher.Instance, nodes);

        foreach (string key in TestKeys.Create(2_000).Concat(TestKeys.Special))
        {
            ulong keyHash = hash.HashKey(key);
            string[] expected = model.GetNodes(keyHash, nodes.Length);
            Assert.Equal(expected, hash.GetNodes(key, nodes.Length));
            Assert.Equal(expected[..3], hash.GetNodes(key, 3));
            Assert.Equal(expected[0], hash.GetNode(key));
        }
    }

    [Fact]
    public void GetNodes_WithWeights_AreInDescendingWeightedScoreOrder()
    {
        ReferenceNode[] nodes = [.. TestKeys.Nodes(7).Select((n, i) => new ReferenceNode(n, i switch { 1 => 2.0, 4 => 0.5, 5 => 3.25, _ => 1.0 }))];
        RendezvousHash<string> hash = Create(nodes);
        var model = new ReferenceRendezvous(XxHash3KeyHasher.Instance, nodes);

        foreach (string key in TestKeys.Create(2_000))
        {
            ulong keyHash = hash.HashKey(key);
            string[] expected = model.GetNodes(keyHash, nodes.Length);
            Assert.Equal(expected, hash.GetNodes(key, nodes.Length));
            Assert.Equal(expected[0], hash.GetNode(key));
        }
    }

    [Fact]
    public void GetNodes_WithMoreThanSixtyFourWanted_KeepsScoreOrder()
    {
        ReferenceNode[] nodes = [.. TestKeys.Nodes(80).Select(n => new ReferenceNode(n))];
        RendezvousHash<string> hash = Create(nodes);
        var model = new ReferenceRendezvous(XxHash3KeyHasher.Instance, nodes);

        foreach (string key in TestKeys.Create(100))
        {
            Assert.Equal(model.GetNodes(hash.HashKey(key), 70), hash.GetNodes(key, 70));
        }
    }

    [Fact]
    public void Weights_GiveRoughlyProportionalShares()
    {
        RendezvousHash<string> hash = Create([new("node-a"), new("node-b"), new("node-c", 3), new("node-d"), new("node-e", 0.5)]);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        Span<byte> key = stackalloc byte[16];
        for (int i = 0; i < 100_000; i++)
        {
            DistributionAnalyzer.WriteSampleKey(i, key);
            string owner = hash.GetNode(key);
            counts[owner] = counts.GetValueOrDefault(owner) + 1;
        }

        double unit = (counts["node-a"] + counts["node-b"] + counts["node-d"]) / 3.0;
        Assert.InRange(counts["node-c"] / unit, 2.7, 3.3);
        Assert.InRange(counts["node-e"] / unit, 0.45, 0.55);
    }

    [Fact]
    public void Weights_AddingAWeightedNodeMovesKeysOnlyToIt()
    {
        RendezvousHash<string> hash = Create([new("node-a"), new("node-b", 2), new("node-c")]);
        string[] keys = TestKeys.Create(10_000);
        string[] before = TestKeys.Owners(hash, keys);

        hash.Add("node-d", 1.5);
        string[] after = TestKeys.Owners(hash, keys);

        int moved = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (before[i] != after[i])
            {
                Assert.Equal("node-d", after[i]);
                moved++;
            }
        }

        Assert.InRange(moved / (double)keys.Length, 0.25, 0.35); // 1.5 / 5.5 of the keys
    }

    [Fact]
    public void GetNode_WithEveryWeightEqualToOne_UsesTheRawScore()
    {
        // Weight exactly 1 everywhere takes the unweighted path; 1 everywhere but scaled (2, 2, 2) takes the weighted one.
        // Both rank by the same underlying uniform value, so owners agree.
        RendezvousHash<string> unweighted = Create([new("node-a"), new("node-b"), new("node-c")]);
        RendezvousHash<string> scaled = Create([new("node-a", 2), new("node-b", 2), new("node-c", 2)]);
        string[] keys = TestKeys.Create(5_000);

        Assert.Equal(TestKeys.Owners(unweighted, keys), TestKeys.Owners(scaled, keys));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Scores_ThatTie_GoToTheLowerNodeKey(double weight)
    {
        // A constant hasher gives every node the same hash, so every score ties.
        string[] nodes = ["node-c", "node-a", "node-d", "node-b"];
        var options = new ConsistentHashOptions<string> { KeyHasher = new ConstantHasher(0x0123456789abcdefUL) };
        foreach (string node in nodes)
        {
            options.Nodes.Add(new WeightedNode<string>(node, weight));
        }

        var hash = new RendezvousHash<string>(options);

        Assert.Equal("node-a", hash.GetNode("any key"));
        Assert.Equal(["node-a", "node-b", "node-c", "node-d"], hash.GetNodes("any key", 4));
        Assert.Equal(["node-a", "node-b"], hash.GetNodes("any key", 2));
    }

    private static RendezvousHash<string> Create(IEnumerable<ReferenceNode> nodes)
    {
        var options = new ConsistentHashOptions<string>();
        foreach (ReferenceNode node in nodes)
        {
            options.Nodes.Add(new WeightedNode<string>(node.Key, node.Weight));
        }

        return new RendezvousHash<string>(options);
    }
}
