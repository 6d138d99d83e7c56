using BuildingBlocks.ConsistentHashing.Tests.Support;

namespace BuildingBlocks.ConsistentHashing.Tests.Ring;

/// <summary>
/// The documented collision rule: a point not after its predecessor moves to predecessor + 1; past 2^64 - 1 it
/// takes the smallest free position from 0. No virtual node is dropped and the result does not depend on order.
/// </summary>
public class RingCollisionTests
{
    private static readonly string[] Nodes = ["node-a", "node-b", "node-c", "node-d"];

    public static TheoryData<string> Hashers => ["mask-f", "mask-ff", "constant-0", "constant-1", "constant-half", "constant-max-2", "constant-max-1", "constant-max"];

    [Theory]
    [MemberData(nameof(Hashers))]
    public void Ring_WithCollidingPositions_KeepsEveryVirtualNodeAtStrictlyIncreasingPositions(string hasherName)
    {
        HashRing<string> ring = Build(hasherName, Nodes, weightOfB: 2);

        RingPoint[] points = ring.Table.Points.ToArray();
        Assert.Equal(Reference.VirtualNodeCount(160, 1) * 3 + Reference.VirtualNodeCount(160, 2), ring.PointCount);
        Assert.Equal(ring.PointCount, points.Length);
        for (int i = 1; i < points.Length; i++)
        {
            Assert.True(points[i].Position > points[i - 1].Position, $"{hasherName}: point {i} at {points[i].Position} is not after {points[i - 1].Position}");
        }

        for (int m = 0; m < ring.Count; m++)
        {
            int expected = ring.Members[m].Key == "node-b" ? 320 : 160;
            Assert.Equal(Enumerable.Range(0, expected), points.Where(p => p.Member == m).Select(p => p.Replica).Order());
        }

        Assert.True(ring.Table.HasCollisions);
        Assert.Equal(1.0, ring.GetKeyspaceShares().Sum(), 9);
    }

    [Theory]
    [MemberData(nameof(Hashers))]
    public void Ring_WithCollidingPositions_IsTheSameWhateverTheInsertionOrder(string hasherName)
    {
        HashRing<string> expected = Build(hasherName, Nodes, weightOfB: 2);

        foreach (int seed in new[] { 1, 2, 3 })
        {
            string[] order = TestKeys.Shuffle(Nodes, seed);
            HashRing<string> byAdd = Build(hasherName, [], weightOfB: 2);
            foreach (string node in order)
            {
                byAdd.Add(node, node == "node-b" ? 2 : 1);
            }

            HashRing<string> bySetNodes = Build(hasherName, [], weightOfB: 2);
            bySetNodes.SetNodes(order.Select(n => new WeightedNode<string>(n, n == "node-b" ? 2 : 1)));

            Assert.Equal(expected.Table.Points.ToArray(), byAdd.Table.Points.ToArray());
            Assert.Equal(expected.Table.Points.ToArray(), bySetNodes.Table.Points.ToArray());
            Assert.Equal(expected.Table.Index, byAdd.Table.Index);
        }
    }

    [Theory]
    [MemberData(nameof(Hashers))]
    public void Ring_WithCollidingPositions_ChangedIncrementallyEqualsTheRingBuiltFromScratch(string hasherName)
    {
        HashRing<string> ring = Build(hasherName, Nodes, weightOfB: 2);

        ring.Remove("node-c");
        Assert.Equal(Build(hasherName, ["node-a", "node-b", "node-d"], weightOfB: 2).Table.Points.ToArray(), ring.Table.Points.ToArray());

        ring.Add("node-e");
        Assert.Equal(Build(hasherName, ["node-a", "node-b", "node-d", "node-e"], weightOfB: 2).Table.Points.ToArray(), ring.Table.Points.ToArray());

        ring.Replace("node-a", "node-0");
        Assert.Equal(Build(hasherName, ["node-0", "node-b", "node-d", "node-e"], weightOfB: 2).Table.Points.ToArray(), ring.Table.Points.ToArray());
    }

    [Theory]
    [MemberData(nameof(Hashers))]
    public void Lookups_OnACollidingRing_FindEachPointAndReturnDistinctNodes(string hasherName)
    {
        HashRing<string> ring = Build(hasherName, Nodes, weightOfB: 2);
        RingPoint[] points = ring.Table.Points.ToArray();

        for (int i = 0; i < points.Length; i++)
        {
            Assert.Equal(i, ring.Table.FindFirst(points[i].Position));
            if (points[i].Position != ulong.MaxValue)
            {
                Assert.Equal(i + 1 == points.Length ? 0 : i + 1, ring.Table.FindFirst(points[i].Position + 1));
            }
        }

        foreach (string key in TestKeys.Create(200))
        {
            string[] list = ring.GetNodes(key, 4);
            Assert.Equal(4, list.Length);
            Assert.Equal(4, list.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(ring.GetNode(key), list[0]);
        }
    }

    [Fact]
    public void Ring_WhenEveryPositionIsTheMaximum_WrapsTheOverflowToTheLowestPositions()
    {
        HashRing<string> ring = Build("constant-max", ["node-a", "node-b"], weightOfB: 1);

        RingPoint[] points = ring.Table.Points.ToArray();

        // The first point in (position, member, replica) order keeps 2^64 - 1; the other 319 take 0..318.
        Assert.Equal([.. Enumerable.Range(0, 319).Select(i => (ulong)i), ulong.MaxValue], points.Select(p => p.Position));
        Assert.Equal((0, 0), (points[^1].Member, points[^1].Replica));
        Assert.Equal("node-a", ring.GetNode("any key")); // every key hashes to 2^64 - 1
    }

    [Fact]
    public void Ring_WhenPositionsPileUpBelowTheMaximum_FillsUpToItThenWrapsAroundTheKeptPoints()
    {
        // Positions 2^64 - 3 for everything: three points reach the top, the rest wrap to 0, 1, 2, ...
        HashRing<string> ring = Build("constant-max-2", ["node-a"], weightOfB: 1);

        ulong[] positions = [.. ring.Table.Points.ToArray().Select(p => p.Position)];

        Assert.Equal([.. Enumerable.Range(0, 157).Select(i => (ulong)i), ulong.MaxValue - 2, ulong.MaxValue - 1, ulong.MaxValue], positions);
    }

    [Fact]
    public void Ring_WhenTheOverflowWraps_SkipsPositionsThatEarlierPointsHold()
    {
        // "low" sits at 0..159; all 160 points of "high" hash to 2^64 - 1. One keeps the top, the other 159 wrap
        // around and must take 160..318, the lowest positions that "low" does not already hold.
        var ring = new HashRing<string>(new ConsistentHashOptions<string> { KeyHasher = new LowOrTopHasher() });
        ring.Add("low");
        ring.Add("high");

        RingPoint[] points = ring.Table.Points.ToArray();
        int high = ring.Members.Select(m => m.Key).ToList().IndexOf("high");

        Assert.Equal([.. Enumerable.Range(0, 319).Select(i => (ulong)i), ulong.MaxValue], points.Select(p => p.Position));
        Assert.All(points[..160], p => Assert.NotEqual(high, p.Member));
        Assert.Equal(Enumerable.Range(1, 159), points[160..319].Select(p => p.Replica));
        Assert.All(points[160..], p => Assert.Equal(high, p.Member));
        Assert.Equal((ulong.MaxValue, 0), (points[^1].Position, points[^1].Replica));
        Assert.Equal("high", ring.GetNode("any key")); // keys hash to 2^64 - 1 too
        Assert.Equal(["high", "low"], ring.GetNodes("any key", 2));
    }

    [Fact]
    public void Ring_WithCollisionsNearZero_SkipsPositionsAlreadyTaken()
    {
        // Only 16 distinct positions (0..15): they pile up from each value upwards, nothing is dropped or duplicated.
        HashRing<string> ring = Build("mask-f", ["node-a", "node-b"], weightOfB: 1);

        ulong[] positions = [.. ring.Table.Points.ToArray().Select(p => p.Position)];

        Assert.Equal(320, positions.Length);
        Assert.Equal(320, positions.Distinct().Count());
        Assert.True(positions[0] <= 15);
        Assert.True(positions[^1] < 16 + 320);
    }

    private static HashRing<string> Build(string hasherName, string[] nodes, double weightOfB)
    {
        IKeyHasher hasher = hasherName switch
        {
            "mask-f" => new MaskedHasher(0xF),
            "mask-ff" => new MaskedHasher(0xFF),
            "constant-0" => new ConstantHasher(0),
            "constant-1" => new ConstantHasher(1),
            "constant-half" => new ConstantHasher(1UL << 63),
            "constant-max-2" => new ConstantHasher(ulong.MaxValue - 2),
            "constant-max-1" => new ConstantHasher(ulong.MaxValue - 1),
            "constant-max" => new ConstantHasher(ulong.MaxValue),
            _ => throw new ArgumentOutOfRangeException(nameof(hasherName), hasherName, null),
        };

        var options = new ConsistentHashOptions<string> { KeyHasher = hasher };
        foreach (string node in nodes)
        {
            options.Nodes.Add(new WeightedNode<string>(node, node == "node-b" ? weightOfB : 1));
        }

        return new HashRing<string>(options);
    }
}
