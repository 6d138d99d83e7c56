using BuildingBlocks.ConsistentHashing.Tests.Support;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing.Tests.Maglev;

public class MaglevHashTests
{
    [Theory]
    [InlineData(65_537, 7)]
    [InlineData(65_537, 10)]
    [InlineData(65_537, 100)]
    [InlineData(101, 10)]
    [InlineData(7, 7)]
    public void Table_GivesEveryUnweightedNodeFloorOrCeilingOfMOverNSlots(int tableSize, int nodeCount)
    {
        MaglevHash<string> hash = Create(tableSize, TestKeys.Nodes(nodeCount).Select(n => new ReferenceNode(n)));

        double[] shares = hash.GetKeyspaceShares();

        Assert.Equal(tableSize, hash.TableSize);
        Assert.Equal(nodeCount, shares.Length);
        long[] slots = [.. shares.Select(s => (long)Math.Round(s * tableSize))];
        Assert.Equal(tableSize, slots.Sum());
        Assert.All(slots, s => Assert.InRange(s, tableSize / nodeCount, (tableSize + nodeCount - 1) / nodeCount));
    }

    [Fact]
    public void Table_GivesAWeightedNodeSlotsInProportionToItsWeight()
    {
        const int M = 65_537;
        MaglevHash<string> hash = Create(M, [new("node-a"), new("node-b"), new("node-c", 2), new("node-d", 0.5)]);

        long[] slots = [.. hash.GetKeyspaceShares().Select(s => (long)Math.Round(s * M))];

        // Shares 1 : 1 : 2 : 0.5 of 4.5.
        Assert.InRange(slots[0], (M / 4.5) - 4, (M / 4.5) + 4);
        Assert.InRange(slots[1], (M / 4.5) - 4, (M / 4.5) + 4);
        Assert.InRange(slots[2], (2 * M / 4.5) - 4, (2 * M / 4.5) + 4);
        Assert.InRange(slots[3], (0.5 * M / 4.5) - 4, (0.5 * M / 4.5) + 4);
    }

    [Fact]
    public void Lookups_MatchTheDocumentedTableConstruction()
    {
        ReferenceNode[] nodes = [.. TestKeys.Nodes(11).Select((n, i) => new ReferenceNode(n, i == 3 ? 2.0 : i == 7 ? 0.75 : 1.0))];
        MaglevHash<string> hash = Create(4_099, nodes);
        var model = new ReferenceMaglev(XxHash3KeyHasher.Instance, nodes, 4_099);

        for (int m = 0; m < nodes.Length; m++)
        {
            Assert.Equal(model.Table.Count(owner => owner == m), (int)Math.Round(hash.GetKeyspaceShares()[m] * 4_099));
        }

        foreach (string key in TestKeys.Create(5_000).Concat(TestKeys.Special))
        {
            ulong keyHash = hash.HashKey(key);
            Assert.Equal(model.GetNodes(keyHash, 1)[0], hash.GetNode(key));
            Assert.Equal(model.GetNodes(keyHash, 4), hash.GetNodes(key, 4));
        }

        Assert.Equal(model.GetNodes(0, 11), GetAll(hash, 0));
        Assert.Equal(model.GetNodes(ulong.MaxValue, 11), GetAll(hash, ulong.MaxValue));

        static string[] GetAll(MaglevHash<string> h, ulong keyHash)
        {
            var all = new string[h.Count];
            Assert.Equal(h.Count, h.GetNodes(keyHash, all));
            return all;
        }
    }

    [Theory]
    [InlineData(65_536)]
    [InlineData(65_535)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(0)]
    [InlineData(-7)]
    [InlineData(16_777_260)]
    public void OptionsValidation_RejectsATableSizeThatIsNotAPrimeInRange(int tableSize)
    {
        var options = new ConsistentHashOptions<string> { Algorithm = ConsistentHashAlgorithm.Maglev, MaglevTableSize = tableSize };

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => new MaglevHash<string>(options));

        Assert.Contains($"MaglevTableSize = {tableSize}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("prime", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(65_537)]
    [InlineData(ConsistentHashOptions<string>.MaxMaglevTableSize)]
    public void OptionsValidation_AcceptsAPrimeTableSizeInRange(int tableSize)
    {
        var options = new ConsistentHashOptions<string> { Algorithm = ConsistentHashAlgorithm.Maglev, MaglevTableSize = tableSize };

        Assert.Equal(tableSize, new MaglevHash<string>(options).TableSize);
    }

    [Fact]
    public void Add_BeyondTheTableSize_ThrowsInvalidOperationExceptionAndLeavesMembershipUnchanged()
    {
        MaglevHash<string> hash = Create(7, TestKeys.Nodes(7).Select(n => new ReferenceNode(n)));
        string[] keys = TestKeys.Create(500);
        string[] owners = TestKeys.Owners(hash, keys);
        long version = hash.Version;
        int events = 0;
        hash.MembershipChanged += (_, _) => events++;

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => hash.Add("node-too-many"));
        Assert.Throws<InvalidOperationException>(() => hash.SetNodes(TestKeys.Nodes(8).Select(n => new WeightedNode<string>(n))));

        Assert.Contains("MaglevTableSize", ex.Message, StringComparison.Ordinal);
        Assert.Equal(7, hash.Count);
        Assert.False(hash.Contains("node-too-many"));
        Assert.Equal(version, hash.Version);
        Assert.Equal(0, events);
        Assert.Equal(owners, TestKeys.Owners(hash, keys));
        Assert.Equal(7, hash.GetNodes("key", 10).Length);
    }

    [Fact]
    public void Constructor_WithMoreInitialNodesThanTableSlots_ThrowsOptionsValidationExceptionNamingMaglevTableSize()
    {
        var options = new ConsistentHashOptions<string> { MaglevTableSize = 7 };
        foreach (string node in TestKeys.Nodes(8))
        {
            options.Nodes.Add(new WeightedNode<string>(node));
        }

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => new MaglevHash<string>(options));

        Assert.Contains("ConsistentHashOptions.Nodes has 8 nodes: more than MaglevTableSize = 7", ex.Message, StringComparison.Ordinal);
        options.Algorithm = ConsistentHashAlgorithm.Maglev;
        Assert.Throws<OptionsValidationException>(() => ConsistentHash.Create(options));
        options.Algorithm = ConsistentHashAlgorithm.Ring;
        Assert.Equal(8, new HashRing<string>(options).Count); // the limit is Maglev's only
    }

    [Fact]
    public void KeysMovedByAddingANode_StayBelowTwiceTheIdeal()
    {
        DistributionReport report = DistributionAnalyzer.Analyze(new DistributionAnalysisOptions
        {
            Algorithm = ConsistentHashAlgorithm.Maglev,
            NodeCount = 50,
            KeyCount = 50_000,
            MovementTrials = 3,
        });

        Assert.InRange(report.AddMoveRatio, 0.9, 2.0);
        Assert.InRange(report.RemoveMoveRatio, 0.9, 2.0);
        Assert.InRange(report.StrayMoves, double.Epsilon, 0.05);
        Assert.InRange(report.PeakToMean, 1.0, 1.01);
    }

    [Fact]
    public void Table_GivesEveryNodeAtLeastOneSlotHoweverSmallItsWeight()
    {
        // Weight 0.1 against 1 in a 7-slot table would never earn a full turn; the first round gives it one anyway.
        MaglevHash<string> hash = Create(7, [new("node-a"), new("node-b", 0.1)]);

        double[] shares = hash.GetKeyspaceShares();

        Assert.Equal(1, (int)Math.Round(shares[1] * 7));
        Assert.Equal(6, (int)Math.Round(shares[0] * 7));
    }

    [Fact]
    public void GetNodes_WithATinyWeightNode_StillReturnsEveryMember()
    {
        // The interface promises Math.Min(destination.Length, Count) distinct nodes, so every member must be reachable.
        MaglevHash<string> hash = Create(7, [new("node-a"), new("node-b", 0.1)]);
        MaglevHash<string> large = Create(65_537, [.. TestKeys.Nodes(1_000).Select(n => new ReferenceNode(n)), new("drained", 1e-6)]);

        foreach (string key in TestKeys.Create(100))
        {
            var destination = new string[2];
            Assert.Equal(2, hash.GetNodes(key, destination));
            Assert.Equal(["node-a", "node-b"], destination.Order(StringComparer.Ordinal));
        }

        Assert.Contains("drained", large.GetNodes("key", 1_001));
        Assert.True(large.GetKeyspaceShares()[^1] > 0);
    }

    private static MaglevHash<string> Create(int tableSize, IEnumerable<ReferenceNode> nodes)
    {
        var options = new ConsistentHashOptions<string> { MaglevTableSize = tableSize };
        foreach (ReferenceNode node in nodes)
        {
            options.Nodes.Add(new WeightedNode<string>(node.Key, node.Weight));
        }

        return new MaglevHash<string>(options);
    }
}
