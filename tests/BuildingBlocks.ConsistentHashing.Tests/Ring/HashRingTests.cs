using BuildingBlocks.ConsistentHashing.Tests.Support;

namespace BuildingBlocks.ConsistentHashing.Tests.Ring;

public class HashRingTests
{
    [Fact]
    public void PointCount_IsTheSumOfRoundedVirtualNodesTimesWeight()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 10 });
        (string Node, double Weight, int Points)[] nodes =
        [
            ("node-a", 1.0, 10),
            ("node-b", 2.0, 20),
            ("node-c", 0.25, 3), // 2.5 rounds half away from zero
            ("node-d", 1.34, 13),
            ("node-e", 0.04, 1), // 0.4 would round to 0: every member keeps at least one point
        ];

        foreach ((string node, double weight, _) in nodes)
        {
            ring.Add(node, weight);
        }

        Assert.Equal(nodes.Sum(n => n.Points), ring.PointCount);
        Assert.Equal(10, ring.VirtualNodes);
        RingPoint[] points = ring.Table.Points.ToArray();
        for (int m = 0; m < ring.Count; m++)
        {
            int expected = nodes.Single(n => n.Node == ring.Members[m].Key).Points;
            int[] replicas = [.. points.Where(p => p.Member == m).Select(p => p.Replica).Order()];
            Assert.Equal(Enumerable.Range(0, expected), replicas);
        }
    }

    [Fact]
    public void PointCount_WithDefaultOptions_Is160PerNodeOfWeightOne()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string>());
        ring.Add("a");
        ring.Add("b");
        ring.Add("c", 1.5);

        Assert.Equal(ConsistentHashOptions<string>.DefaultVirtualNodes, ring.VirtualNodes);
        Assert.Equal(160 + 160 + 240, ring.PointCount);
    }

    [Fact]
    public void Points_AreAtTheDocumentedPositionsInStrictlyIncreasingOrder()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 50 });
        ring.Add("node-a");
        ring.Add("ключ-узел", 2);
        ring.Add("node-c");

        RingPoint[] points = ring.Table.Points.ToArray();
        for (int i = 0; i < points.Length; i++)
        {
            string key = ring.Members[points[i].Member].Key;
            Assert.Equal(Reference.RingPosition(XxHash3KeyHasher.Instance, key, points[i].Replica), points[i].Position);
            if (i > 0)
            {
                Assert.True(points[i].Position > points[i - 1].Position, $"point {i} is not after point {i - 1}");
            }
        }

        Assert.False(ring.Table.HasCollisions);
    }

    [Fact]
    public void GetNode_IsTheFirstPointAtOrAfterTheKeyHashWrappingAround()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 20 });
        foreach (string node in new[] { "node-a", "node-b", "node-c", "node-d" })
        {
            ring.Add(node);
        }

        RingPoint[] points = ring.Table.Points.ToArray();
        var random = new Random(1);
        var probes = new List<ulong> { 0, ulong.MaxValue, points[0].Position, points[^1].Position, points[^1].Position + 1 };
        foreach (RingPoint p in points)
        {
            probes.Add(p.Position);
            probes.Add(p.Position - 1);
            probes.Add(p.Position + 1);
        }

        for (int i = 0; i < 5_000; i++)
        {
            probes.Add((ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63));
        }

        foreach (ulong probe in probes)
        {
            int expected = Array.FindIndex(points, p => p.Position >= probe);
            expected = expected < 0 ? 0 : expected;
            Assert.Equal(expected, ring.Table.FindFirst(probe));
            Assert.Equal(ring.Members[points[expected].Member].Node, ring.GetNode(probe));
        }
    }

    [Fact]
    public void GetNodes_WalksThePointsClockwiseCollectingDistinctMembers()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 8 });
        var reference = new List<ReferenceNode>();
        foreach (string node in TestKeys.Nodes(24))
        {
            ring.Add(node);
            reference.Add(new ReferenceNode(node));
        }

        var model = new ReferenceRing(XxHash3KeyHasher.Instance, reference, 8);
        Assert.Equal(model.Points.Select(p => p.Position), ring.Table.Points.ToArray().Select(p => p.Position));
        foreach (string key in TestKeys.Create(2_000))
        {
            ulong keyHash = ring.HashKey(key);
            Assert.Equal(model.GetNodes(keyHash, 3), ring.GetNodes(key, 3));
            Assert.Equal(model.GetNodes(keyHash, 20), ring.GetNodes(key, 20)); // more than 16: the bitmap path
        }
    }

    [Fact]
    public void GetKeyspaceShares_SumToOne()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string>());
        foreach (string node in TestKeys.Nodes(13))
        {
            ring.Add(node);
        }

        double[] shares = ring.GetKeyspaceShares();

        Assert.Equal(13, shares.Length);
        Assert.Equal(1.0, shares.Sum(), 9);
        Assert.All(shares, share => Assert.InRange(share, 0.5 / 13, 2.0 / 13));
    }

    [Fact]
    public void GetKeyspaceShares_OfOneNodeIsWholeAndOfNoNodeIsEmpty()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 1 });
        Assert.Empty(ring.GetKeyspaceShares());

        ring.Add("only");
        Assert.Equal([1.0], ring.GetKeyspaceShares());

        var many = new HashRing<string>(new ConsistentHashOptions<string>());
        many.Add("only");
        Assert.Equal(1.0, Assert.Single(many.GetKeyspaceShares()), 12);
    }

    [Fact]
    public void GetKeyspaceShares_MatchTheFractionOfSampledKeysEachNodeOwns()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 40 });
        foreach (string node in TestKeys.Nodes(5))
        {
            ring.Add(node);
        }

        double[] shares = ring.GetKeyspaceShares();
        var counts = new double[ring.Count];
        Dictionary<string, int> memberIndex = ring.Members.Select((m, i) => (m.Key, i)).ToDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);
        const int Keys = 200_000;
        Span<byte> key = stackalloc byte[16];
        for (int i = 0; i < Keys; i++)
        {
            DistributionAnalyzer.WriteSampleKey(i, key);
            counts[memberIndex[ring.GetNode(key)]]++;
        }

        for (int m = 0; m < shares.Length; m++)
        {
            Assert.InRange(counts[m] / Keys, shares[m] - 0.01, shares[m] + 0.01);
        }
    }

    [Fact]
    public void GetKeyspaceShares_NodeOfWeightTwoOwnsAboutTwiceTheShareOfWeightOne()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 400 });
        ring.Add("node-a");
        ring.Add("node-b");
        ring.Add("node-c", 2);
        ring.Add("node-d");
        ring.Add("node-e", 0.5);

        double[] shares = ring.GetKeyspaceShares();
        double unit = (shares[0] + shares[1] + shares[3]) / 3;

        Assert.InRange(shares[2] / unit, 1.6, 2.4);
        Assert.InRange(shares[4] / unit, 0.35, 0.65);
        Assert.Equal(1.0, shares.Sum(), 9);
    }

    [Fact]
    public void IncrementalChanges_GiveExactlyTheRingBuiltFromScratch()
    {
        var options = new ConsistentHashOptions<string> { VirtualNodes = 64 };
        var ring = new HashRing<string>(options);
        var members = new List<WeightedNode<string>>();
        string[] keys = TestKeys.Create(3_000);

        void Check()
        {
            var scratchOptions = new ConsistentHashOptions<string> { VirtualNodes = 64 };
            foreach (WeightedNode<string> member in members)
            {
                scratchOptions.Nodes.Add(member);
            }

            var scratch = new HashRing<string>(scratchOptions);
            Assert.Equal(scratch.Table.Points.ToArray(), ring.Table.Points.ToArray());
            Assert.Equal(scratch.Table.Index, ring.Table.Index);
            Assert.Equal(scratch.Table.Shift, ring.Table.Shift);
            Assert.Equal(scratch.Members.Select(m => m.ToString()), ring.Members.Select(m => m.ToString()));
            Assert.Equal(TestKeys.Owners(scratch, keys), TestKeys.Owners(ring, keys));
        }

        foreach ((string node, double weight) in new[] { ("m", 1.0), ("c", 2.0), ("x", 1.0), ("a", 0.5), ("q", 1.0), ("e", 3.0) })
        {
            ring.Add(node, weight);
            members.Add(new WeightedNode<string>(node, weight));
            Check();
        }

        foreach (string node in new[] { "c", "a", "x" })
        {
            Assert.True(ring.Remove(node));
            members.RemoveAll(m => m.Node == node);
            Check();
        }

        ring.Replace("e", "b");
        members[members.FindIndex(m => m.Node == "e")] = new WeightedNode<string>("b", 3.0);
        Check();

        ring.Replace("q", "q");
        Check();

        ring.Add("z");
        members.Add(new WeightedNode<string>("z"));
        Check();
    }

    [Fact]
    public void Replace_WithTheSameKey_MovesNoKeyAndServesTheNewNodeObject()
    {
        var ring = new HashRing<Server>(new ConsistentHashOptions<Server> { NodeKeySelector = s => s.Name });
        ring.Add(new Server("cache-a", Connection: 1));
        ring.Add(new Server("cache-b", Connection: 1));
        ring.Add(new Server("cache-c", Connection: 1));
        string[] keys = TestKeys.Create(5_000);
        string[] before = [.. keys.Select(k => ring.GetNode(k).Name)];
        RingPoint[] pointsBefore = ring.Table.Points.ToArray();

        ring.Replace(new Server("cache-b", Connection: 1), new Server("cache-b", Connection: 2));

        Assert.Equal(before, keys.Select(k => ring.GetNode(k).Name));
        Assert.Equal(pointsBefore, ring.Table.Points.ToArray());
        Assert.Contains(keys, k => ring.GetNode(k) == new Server("cache-b", 2));
        Assert.DoesNotContain(keys, k => ring.GetNode(k) == new Server("cache-b", 1));
        Assert.Equal(new Server("cache-b", 2), ring.Members.Single(m => m.Key == "cache-b").Node);
    }

    [Fact]
    public void Replace_WithANewKey_MovesOnlyKeysOfTheOldNodeOrKeysTheNewNodeTakes()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string>());
        foreach (string node in TestKeys.Nodes(8))
        {
            ring.Add(node);
        }

        string[] keys = TestKeys.Create(10_000);
        string[] before = TestKeys.Owners(ring, keys);

        ring.Replace("node-003", "node-new");
        string[] after = TestKeys.Owners(ring, keys);

        int takenFromOthers = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (before[i] != after[i])
            {
                Assert.True(before[i] == "node-003" || after[i] == "node-new", $"{keys[i]} moved from {before[i]} to {after[i]}");
                takenFromOthers += before[i] != "node-003" ? 1 : 0;
            }
        }

        // A new key means new positions: like Remove + Add, the replacement also takes arcs from the other nodes.
        Assert.DoesNotContain("node-003", after);
        Assert.True(takenFromOthers > 0);
    }

    [Fact]
    public void KeysMovedByAddingOneNodeToAHundredNodeRing_AreOnAverageWithinTenPercentOfIdeal()
    {
        DistributionReport report = DistributionAnalyzer.Analyze(new DistributionAnalysisOptions
        {
            Algorithm = ConsistentHashAlgorithm.Ring,
            NodeCount = 100,
            KeyCount = 100_000,
            MovementTrials = 8,
        });

        Assert.InRange(report.AddMoveRatio, 0.9, 1.1);
        Assert.InRange(report.RemoveMoveRatio, 0.9, 1.1);
        Assert.Equal(0, report.StrayMoves);
        Assert.True(report.ExactLoads);
    }
}
