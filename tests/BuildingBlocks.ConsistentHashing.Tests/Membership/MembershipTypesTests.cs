namespace BuildingBlocks.ConsistentHashing.Tests.Membership;

public class MembershipTypesTests
{
    [Fact]
    public void DuplicateNodeException_NamesTheKeyAndTheArgument()
    {
        var ex = new DuplicateNodeException("cache-a", "node");

        Assert.Equal("cache-a", ex.NodeKey);
        Assert.Equal("node", ex.ParamName);
        Assert.Contains("'cache-a'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Replace", ex.Message, StringComparison.Ordinal);
        Assert.Equal(string.Empty, new DuplicateNodeException().NodeKey);
        Assert.Equal(string.Empty, new DuplicateNodeException("message").NodeKey);
        Assert.IsType<InvalidOperationException>(new DuplicateNodeException("message", new InvalidOperationException()).InnerException);
    }

    [Fact]
    public void NodeNotFoundException_NamesTheKeyAndTheOperation()
    {
        var ex = new NodeNotFoundException("cache-z", "replace a node");

        Assert.Equal("cache-z", ex.NodeKey);
        Assert.Contains("'cache-z'", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("Cannot replace a node", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<KeyNotFoundException>(ex);
        Assert.Equal(string.Empty, new NodeNotFoundException().NodeKey);
        Assert.Equal("message", new NodeNotFoundException("message").Message);
        Assert.NotNull(new NodeNotFoundException("message", new InvalidOperationException()).InnerException);
    }

    [Fact]
    public void EmptyRingException_PointsToTryGetNode()
    {
        var ex = new EmptyRingException();

        Assert.Contains("TryGetNode", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<InvalidOperationException>(ex);
        Assert.Equal("message", new EmptyRingException("message").Message);
        Assert.NotNull(new EmptyRingException("message", new InvalidOperationException()).InnerException);
    }

    [Fact]
    public void RingMember_ToString_ShowsTheWeightOnlyWhenItIsNotOne()
    {
        var hash = new HashRing<string>(new ConsistentHashOptions<string>());
        hash.Add("a");
        hash.Add("b", 2.5);

        Assert.Equal("a", hash.Members[0].ToString());
        Assert.Equal($"b (weight {2.5})", hash.Members[1].ToString());
    }

    [Fact]
    public void WeightedNode_DefaultsToWeightOne()
    {
        Assert.Equal(1.0, new WeightedNode<string>("a").Weight);
        Assert.Equal(new WeightedNode<string>("a", 1.0), new WeightedNode<string>("a"));
    }

    [Fact]
    public void Members_IsASnapshotThatLaterChangesDoNotAlter()
    {
        var hash = new RendezvousHash<string>(new ConsistentHashOptions<string>());
        hash.Add("a");
        IReadOnlyList<RingMember<string>> before = hash.Members;

        hash.Add("b");
        hash.Remove("a");

        Assert.Equal(["a"], before.Select(m => m.Key));
        Assert.Equal(["b"], hash.Members.Select(m => m.Key));
    }

    [Fact]
    public void NodeKeySelector_ReturningNullOrWhiteSpace_IsRejectedWithArgumentException()
    {
        var hash = new HashRing<Support.Server>(new ConsistentHashOptions<Support.Server> { NodeKeySelector = s => s.Name });

        ArgumentException blank = Assert.Throws<ArgumentException>(() => hash.Add(new Support.Server("  ")));
        ArgumentException missing = Assert.Throws<ArgumentException>(() => hash.Add(new Support.Server(null!)));

        Assert.Contains("white-space", blank.Message, StringComparison.Ordinal);
        Assert.Contains("null", missing.Message, StringComparison.Ordinal);
        Assert.Equal(0, hash.Count);
    }

    [Fact]
    public async Task MembershipChanged_FromConcurrentWriters_ArrivesOneAtATimeInVersionOrder()
    {
        var hash = new HashRing<string>(new ConsistentHashOptions<string> { VirtualNodes = 16 });
        var versions = new List<long>();
        int inHandler = 0;
        int overlaps = 0;
        hash.MembershipChanged += (_, e) =>
        {
            if (Interlocked.Increment(ref inHandler) != 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            versions.Add(e.Version);
            Assert.Equal(e.Version, hash.Version);
            Interlocked.Decrement(ref inHandler);
        };
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;

        await Task.WhenAll(Enumerable.Range(0, 3).Select(writer => Task.Run(
            () =>
            {
                for (int i = 0; i < 50; i++)
                {
                    hash.Add($"writer-{writer}-{i}");
                }
            },
            cancellationToken)));

        Assert.Equal(0, overlaps);
        Assert.Equal(Enumerable.Range(1, 150).Select(v => (long)v), versions);
        Assert.Equal(150, hash.Count);
    }
}
