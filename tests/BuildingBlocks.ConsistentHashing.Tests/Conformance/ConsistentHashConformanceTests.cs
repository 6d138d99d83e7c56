using BuildingBlocks.ConsistentHashing.Tests.Support;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing.Tests.Conformance;

/// <summary>
/// The contract of <see cref="IConsistentHash{TNode}"/> that every algorithm must keep. Derived once per algorithm;
/// the few virtual properties below state where an algorithm legitimately differs.
/// </summary>
public abstract class ConsistentHashConformanceTests
{
    protected static readonly string[] FiveNodes = ["node-a", "node-b", "node-c", "node-d", "node-e"];

    /// <summary>The algorithm the derived class tests.</summary>
    protected abstract ConsistentHashAlgorithm ExpectedAlgorithm { get; }

    /// <summary>Whether <see cref="IConsistentHash{TNode}.Members"/> is in ordinal key order (all but Jump, whose order is its bucket order).</summary>
    protected virtual bool MembersOrderedByKey => true;

    /// <summary>Whether weights other than 1 are accepted.</summary>
    protected virtual bool SupportsWeights => true;

    /// <summary>Whether a single add (remove) moves keys only to (from) the changed node. Maglev moves a few others.</summary>
    protected virtual bool MovesOnlyKeysOfTheChangedNode => true;

    /// <summary>Creates the instance under test from <paramref name="options"/>.</summary>
    protected abstract IConsistentHash<string> Create(ConsistentHashOptions<string> options);

    /// <summary>The member whose removal should move only its own keys (Jump: only the last bucket).</summary>
    protected virtual string NodeToRemove(IConsistentHash<string> hash) => hash.Members[hash.Count / 2].Key;

    protected IConsistentHash<string> CreateWith(params IEnumerable<string> nodes)
    {
        var options = new ConsistentHashOptions<string>();
        foreach (string node in nodes)
        {
            options.Nodes.Add(new WeightedNode<string>(node));
        }

        return Create(options);
    }

    [Fact]
    public void Algorithm_IsTheImplementedAlgorithm()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        Assert.Equal(ExpectedAlgorithm, hash.Algorithm);
        Assert.Same(XxHash3KeyHasher.Instance, hash.Hasher);
        Assert.Equal(5, hash.Count);
    }

    [Fact]
    public void GetNode_ByStringUtf8BytesAndHash_ReturnsTheSameNode()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        foreach (string key in TestKeys.Create(2_000).Concat(TestKeys.Special))
        {
            byte[] utf8 = TestKeys.Utf8(key);
            ulong keyHash = hash.HashKey(key);
            Assert.Equal(keyHash, hash.HashKey(utf8));
            Assert.Equal(keyHash, hash.Hasher.Hash(utf8));

            string owner = hash.GetNode(key);
            Assert.Contains(owner, FiveNodes);
            Assert.Equal(owner, hash.GetNode(new ReadOnlySpan<byte>(utf8)));
            Assert.Equal(owner, hash.GetNode(keyHash));
            Assert.True(hash.TryGetNode(keyHash, out string? tried));
            Assert.Equal(owner, tried);
            Assert.True(hash.TryGetNode(key, out string? triedByKey));
            Assert.Equal(owner, triedByKey);
        }
    }

    [Fact]
    public void GetNodes_ByStringUtf8BytesAndHash_ReturnTheSamePreferenceList()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        var byString = new string[3];
        var byBytes = new string[3];
        var byHash = new string[3];

        foreach (string key in TestKeys.Create(1_000).Concat(TestKeys.Special))
        {
            Assert.Equal(3, hash.GetNodes(key, byString));
            Assert.Equal(3, hash.GetNodes(new ReadOnlySpan<byte>(TestKeys.Utf8(key)), byBytes));
            Assert.Equal(3, hash.GetNodes(hash.HashKey(key), byHash));
            Assert.Equal(byString, byBytes);
            Assert.Equal(byString, byHash);
            Assert.Equal(byString, hash.GetNodes(key, 3));
        }
    }

    [Fact]
    public void GetNodes_IntoSpan_WritesDistinctMembersWithTheOwnerFirst()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        foreach (string key in TestKeys.Create(500))
        {
            for (int length = 1; length <= FiveNodes.Length; length++)
            {
                var destination = new string[length];
                int written = hash.GetNodes(key, destination);

                Assert.Equal(length, written);
                Assert.Equal(hash.GetNode(key), destination[0]);
                Assert.Equal(length, destination.Distinct(StringComparer.Ordinal).Count());
                Assert.All(destination, node => Assert.Contains(node, FiveNodes));
            }
        }
    }

    [Fact]
    public void GetNodes_LongerPreferenceList_StartsWithTheShorterOne()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        foreach (string key in TestKeys.Create(300))
        {
            string[] all = hash.GetNodes(key, FiveNodes.Length);
            for (int count = 1; count < FiveNodes.Length; count++)
            {
                Assert.Equal(all[..count], hash.GetNodes(key, count));
            }
        }
    }

    [Fact]
    public void GetNodes_WhenDestinationIsLongerThanNodeCount_ReturnsCountAndWritesOnlyThatMany()
    {
        IConsistentHash<string> hash = CreateWith("node-a", "node-b", "node-c");

        foreach (string key in TestKeys.Create(200))
        {
            string[] destination = [.. Enumerable.Repeat("untouched", 8)];
            int written = hash.GetNodes(key, destination);

            Assert.Equal(3, written);
            Assert.Equal(["node-a", "node-b", "node-c"], destination[..3].Order(StringComparer.Ordinal));
            Assert.All(destination[3..], slot => Assert.Equal("untouched", slot));
            Assert.Equal(3, hash.GetNodes(key, 10).Length);
        }
    }

    [Fact]
    public void GetNodes_WhenMoreThanSixteenNodesAreWanted_ReturnsDistinctMembers()
    {
        string[] nodes = TestKeys.Nodes(70);
        IConsistentHash<string> hash = CreateWith(nodes);

        foreach (string key in TestKeys.Create(50))
        {
            foreach (int count in new[] { 17, 40, 65, 70, 100 })
            {
                string[] list = hash.GetNodes(key, count);

                Assert.Equal(Math.Min(count, nodes.Length), list.Length);
                Assert.Equal(list.Length, list.Distinct(StringComparer.Ordinal).Count());
                Assert.Equal(hash.GetNode(key), list[0]);
                Assert.All(list, node => Assert.Contains(node, nodes));
            }
        }
    }

    [Fact]
    public void GetNodes_WithZeroCount_ReturnsNothing()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        Assert.Empty(hash.GetNodes("key", 0));
        Assert.Equal(0, hash.GetNodes("key", Span<string>.Empty));
    }

    [Fact]
    public void GetNodes_WithNegativeCount_ThrowsArgumentOutOfRangeException()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        Assert.Throws<ArgumentOutOfRangeException>(() => hash.GetNodes("key", -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CreateWith().GetNodes("key", -1));
    }

    [Fact]
    public void Lookups_WhenEmpty_ThrowEmptyRingExceptionOrReportNothing()
    {
        IConsistentHash<string> fresh = CreateWith();
        IConsistentHash<string> emptied = CreateWith("node-a", "node-b");
        Assert.True(emptied.Remove("node-a"));
        Assert.True(emptied.Remove("node-b"));

        foreach (IConsistentHash<string> hash in new[] { fresh, emptied })
        {
            Assert.Equal(0, hash.Count);
            Assert.Throws<EmptyRingException>(() => hash.GetNode("key"));
            Assert.Throws<EmptyRingException>(() => hash.GetNode(new ReadOnlySpan<byte>([1, 2, 3])));
            Assert.Throws<EmptyRingException>(() => hash.GetNode(42UL));
            Assert.False(hash.TryGetNode(42UL, out string? node));
            Assert.Null(node);
            Assert.False(hash.TryGetNode("key", out string? byKey));
            Assert.Null(byKey);
            Assert.Equal(0, hash.GetNodes("key", new string[3]));
            Assert.Equal(0, hash.GetNodes(new ReadOnlySpan<byte>([1, 2, 3]), new string[3]));
            Assert.Equal(0, hash.GetNodes(42UL, new string[3]));
            Assert.Empty(hash.GetNodes("key", 3));
        }
    }

    [Fact]
    public void Lookups_WithNullKey_ThrowArgumentNullException()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        Assert.Throws<ArgumentNullException>(() => hash.HashKey((string)null!));
        Assert.Throws<ArgumentNullException>(() => hash.GetNode((string)null!));
        Assert.Throws<ArgumentNullException>(() => hash.TryGetNode((string)null!, out _));
        Assert.Throws<ArgumentNullException>(() => hash.GetNodes((string)null!, new string[2]));
        Assert.Throws<ArgumentNullException>(() => hash.GetNodes((string)null!, 2));
    }

    [Fact]
    public void MembershipCalls_WithNullNode_ThrowArgumentNullException()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        Assert.Throws<ArgumentNullException>(() => hash.Add(null!));
        Assert.Throws<ArgumentNullException>(() => hash.Remove(null!));
        Assert.Throws<ArgumentNullException>(() => hash.Contains(null!));
        Assert.Throws<ArgumentNullException>(() => hash.Replace(null!, "node-z"));
        Assert.Throws<ArgumentNullException>(() => hash.Replace("node-a", null!));
        Assert.Throws<ArgumentNullException>(() => hash.SetNodes(null!));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t\r\n")]
    public void Add_WithEmptyOrWhiteSpaceKey_ThrowsArgumentException(string key)
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        ArgumentException ex = Assert.Throws<ArgumentException>(() => hash.Add(key));
        Assert.Equal("node", ex.ParamName);
        Assert.Throws<ArgumentException>(() => hash.SetNodes([new WeightedNode<string>("node-a"), new WeightedNode<string>(key)]));
        Assert.Equal(5, hash.Count);
    }

    [Fact]
    public void Add_WithDuplicateKey_ThrowsDuplicateNodeExceptionNamingTheKey()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        DuplicateNodeException ex = Assert.Throws<DuplicateNodeException>(() => hash.Add("node-c"));

        Assert.Equal("node-c", ex.NodeKey);
        Assert.Contains("node-c", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetNodes_WithTwoNodesOfTheSameKey_ThrowsDuplicateNodeException()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        DuplicateNodeException ex = Assert.Throws<DuplicateNodeException>(
            () => hash.SetNodes([new WeightedNode<string>("x"), new WeightedNode<string>("y"), new WeightedNode<string>("x")]));

        Assert.Equal("x", ex.NodeKey);
    }

    [Fact]
    public void Constructor_WithDuplicateInitialNodes_ThrowsOptionsValidationExceptionNamingTheNode()
    {
        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => CreateWith("node-a", "node-b", "node-a"));

        Assert.Contains("ConsistentHashOptions.Nodes[2] has key 'node-a'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, "ConsistentHashOptions.Nodes[1].Weight = 0")]
    [InlineData(-1.0, "ConsistentHashOptions.Nodes[1].Weight = -1")]
    [InlineData(double.PositiveInfinity, "ConsistentHashOptions.Nodes[1].Weight = ")]
    public void Constructor_WithAnInvalidInitialWeight_ThrowsOptionsValidationExceptionNamingTheNode(double weight, string expected)
    {
        var options = new ConsistentHashOptions<string>();
        options.Nodes.Add(new WeightedNode<string>("node-a"));
        options.Nodes.Add(new WeightedNode<string>("node-b", weight));

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => Create(options));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "ConsistentHashOptions.Nodes[0] is null")]
    [InlineData("", "ConsistentHashOptions.Nodes[0]: ")]
    [InlineData("  ", "ConsistentHashOptions.Nodes[0]: ")]
    public void Constructor_WithANullOrBlankInitialNode_ThrowsOptionsValidationExceptionNamingTheNode(string? node, string expected)
    {
        var options = new ConsistentHashOptions<string>();
        options.Nodes.Add(new WeightedNode<string>(node!));

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => Create(options));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Add_WithWeightNotFiniteOrNotPositive_ThrowsArgumentOutOfRangeException(double weight)
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        Assert.Throws<ArgumentOutOfRangeException>(() => hash.Add("node-z", weight));
        Assert.Throws<ArgumentOutOfRangeException>(() => hash.SetNodes([new WeightedNode<string>("node-z", weight)]));
        Assert.False(hash.Contains("node-z"));
    }

    [Fact]
    public void Remove_OfUnknownNode_ReturnsFalseAndChangesNothing()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        long version = hash.Version;

        Assert.False(hash.Remove("node-z"));

        Assert.Equal(version, hash.Version);
        Assert.Equal(5, hash.Count);
    }

    [Fact]
    public void Replace_OfUnknownNode_ThrowsNodeNotFoundException()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        NodeNotFoundException ex = Assert.Throws<NodeNotFoundException>(() => hash.Replace("node-z", "node-y"));

        Assert.Equal("node-z", ex.NodeKey);
        Assert.False(hash.Contains("node-y"));
    }

    [Fact]
    public void Replace_OntoAnotherMembersKey_ThrowsDuplicateNodeException()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        DuplicateNodeException ex = Assert.Throws<DuplicateNodeException>(() => hash.Replace("node-a", "node-b"));

        Assert.Equal("node-b", ex.NodeKey);
        Assert.True(hash.Contains("node-a"));
    }

    [Fact]
    public void FailedMembershipCalls_LeaveMembershipVersionAndOwnersUnchanged()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        string[] keys = TestKeys.Create(500);
        string[] members = [.. hash.Members.Select(m => m.ToString())];
        string[] owners = TestKeys.Owners(hash, keys);
        long version = hash.Version;
        int events = 0;
        hash.MembershipChanged += (_, _) => events++;

        Assert.Throws<DuplicateNodeException>(() => hash.Add("node-a"));
        Assert.Throws<ArgumentException>(() => hash.Add(" "));
        Assert.Throws<ArgumentNullException>(() => hash.Add(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => hash.Add("node-z", double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => hash.Add("node-z", -2));
        Assert.Throws<NodeNotFoundException>(() => hash.Replace("node-z", "node-y"));
        Assert.Throws<DuplicateNodeException>(() => hash.Replace("node-a", "node-e"));
        Assert.Throws<DuplicateNodeException>(() => hash.SetNodes([new WeightedNode<string>("x"), new WeightedNode<string>("x")]));
        Assert.Throws<ArgumentOutOfRangeException>(() => hash.SetNodes([new WeightedNode<string>("x"), new WeightedNode<string>("y", 0)]));
        Assert.Throws<ArgumentException>(() => hash.SetNodes([new WeightedNode<string>("x"), new WeightedNode<string>(string.Empty)]));
        Assert.False(hash.Remove("node-z"));

        Assert.Equal(version, hash.Version);
        Assert.Equal(0, events);
        Assert.Equal(members, hash.Members.Select(m => m.ToString()));
        Assert.Equal(owners, TestKeys.Owners(hash, keys));
    }

    [Fact]
    public void Version_GrowsByOneOnEachChangeAndNotOnFailedOrNoOpCalls()
    {
        IConsistentHash<string> hash = CreateWith();
        long start = hash.Version;

        hash.Add("node-a");
        Assert.Equal(start + 1, hash.Version);
        hash.Add("node-b");
        Assert.Equal(start + 2, hash.Version);
        Assert.False(hash.Remove("node-z"));
        Assert.Equal(start + 2, hash.Version);
        Assert.True(hash.Remove("node-a"));
        Assert.Equal(start + 3, hash.Version);
        hash.Replace("node-b", "node-c");
        Assert.Equal(start + 4, hash.Version);
        hash.SetNodes([new WeightedNode<string>("node-d"), new WeightedNode<string>("node-e"), new WeightedNode<string>("node-f")]);
        Assert.Equal(start + 5, hash.Version);
        Assert.Throws<DuplicateNodeException>(() => hash.Add("node-d"));
        Assert.Equal(start + 5, hash.Version);
    }

    [Fact]
    public void SetNodes_WithTheCurrentMembership_IsNotAChange()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        long version = hash.Version;
        int events = 0;
        hash.MembershipChanged += (_, _) => events++;

        hash.SetNodes(FiveNodes.Select(n => new WeightedNode<string>(n)));
        if (MembersOrderedByKey)
        {
            hash.SetNodes(Enumerable.Reverse(FiveNodes).Select(n => new WeightedNode<string>(n))); // same members: order does not matter
        }

        Assert.Equal(version, hash.Version);
        Assert.Equal(0, events);

        hash.SetNodes(FiveNodes.Select(n => new WeightedNode<string>(n)).Take(4));
        Assert.Equal(version + 1, hash.Version);
        Assert.Equal(1, events);
    }

    [Fact]
    public void SetNodes_WithTheSameKeysButADifferentWeightOrOrder_IsAChange()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        long version = hash.Version;

        if (SupportsWeights)
        {
            hash.SetNodes(FiveNodes.Select(n => new WeightedNode<string>(n, n == "node-b" ? 2 : 1)));
            Assert.Equal(2.0, hash.Members.Single(m => m.Key == "node-b").Weight);
        }
        else
        {
            hash.SetNodes(Enumerable.Reverse(FiveNodes).Select(n => new WeightedNode<string>(n))); // Jump: a new bucket order
            Assert.Equal(Enumerable.Reverse(FiveNodes), hash.Members.Select(m => m.Key));
        }

        Assert.Equal(version + 1, hash.Version);
    }

    [Fact]
    public void MembershipChanged_ReportsAddedRemovedNodeCountAndVersion()
    {
        IConsistentHash<string> hash = CreateWith();
        var events = new List<MembershipChangedEventArgs<string>>();
        hash.MembershipChanged += (sender, e) =>
        {
            Assert.Same(hash, sender);
            events.Add(e);
        };

        hash.Add("node-a");
        hash.Add("node-b");
        hash.Replace("node-a", "node-c");
        hash.Remove("node-b");
        hash.SetNodes([new WeightedNode<string>("node-c"), new WeightedNode<string>("node-d"), new WeightedNode<string>("node-e")]);
        hash.SetNodes([new WeightedNode<string>("node-e")]);

        Assert.Equal(6, events.Count);
        AssertChange(events[0], ["node-a"], [], 1);
        AssertChange(events[1], ["node-b"], [], 2);
        AssertChange(events[2], ["node-c"], ["node-a"], 2);
        AssertChange(events[3], [], ["node-b"], 1);
        AssertChange(events[4], ["node-d", "node-e"], [], 3);
        AssertChange(events[5], [], ["node-c", "node-d"], 1);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => events[0].Version + i), events.Select(e => e.Version));
        Assert.Equal(hash.Version, events[^1].Version);
        Assert.All(events, e => Assert.True(e.RebuildDuration >= TimeSpan.Zero));

        static void AssertChange(MembershipChangedEventArgs<string> e, string[] added, string[] removed, int nodeCount)
        {
            Assert.Equal(added, e.Added.Order(StringComparer.Ordinal));
            Assert.Equal(removed, e.Removed.Order(StringComparer.Ordinal));
            Assert.Equal(nodeCount, e.NodeCount);
        }
    }

    [Fact]
    public void MembershipChanged_IsRaisedAfterTheChangeIsVisibleToLookups()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        var seen = new List<(long Version, int Count, bool ContainsNew, string[] Owners)>();
        string[] keys = TestKeys.Create(2_000);
        hash.MembershipChanged += (_, e) => seen.Add((hash.Version, hash.Count, hash.Contains("node-new"), TestKeys.Owners(hash, keys)));

        hash.Add("node-new");

        (long version, int count, bool containsNew, string[] owners) = Assert.Single(seen);
        Assert.Equal(hash.Version, version);
        Assert.Equal(6, count);
        Assert.True(containsNew);
        Assert.Contains("node-new", owners);
    }

    [Fact]
    public void Contains_IsTrueExactlyForMembers()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);

        Assert.All(FiveNodes, node => Assert.True(hash.Contains(node)));
        Assert.False(hash.Contains("node-z"));
        Assert.False(hash.Contains("NODE-A"));
        hash.Remove("node-b");
        Assert.False(hash.Contains("node-b"));
    }

    [Fact]
    public void Members_ListEveryMemberWithItsWeightInTheAlgorithmsOrder()
    {
        var options = new ConsistentHashOptions<string>();
        string[] insertion = ["node-d", "node-a", "node-e", "node-c", "node-b"];
        foreach (string node in insertion)
        {
            options.Nodes.Add(new WeightedNode<string>(node, SupportsWeights && node == "node-c" ? 2.0 : 1.0));
        }

        IConsistentHash<string> hash = Create(options);

        string[] expectedOrder = MembersOrderedByKey ? [.. insertion.Order(StringComparer.Ordinal)] : insertion;
        Assert.Equal(expectedOrder, hash.Members.Select(m => m.Key));
        Assert.Equal(expectedOrder, hash.Members.Select(m => m.Node));
        Assert.Equal(SupportsWeights ? 2.0 : 1.0, hash.Members.Single(m => m.Key == "node-c").Weight);
        Assert.All(hash.Members.Where(m => m.Key != "node-c"), m => Assert.Equal(1.0, m.Weight));
    }

    [Fact]
    public void SetNodes_ReplacesTheWholeMembership()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        string[] next = ["node-x", "node-y", "node-a"];

        hash.SetNodes(next.Select(n => new WeightedNode<string>(n)));

        Assert.Equal(3, hash.Count);
        Assert.Equal(next.Order(StringComparer.Ordinal), hash.Members.Select(m => m.Key).Order(StringComparer.Ordinal));
        Assert.All(TestKeys.Owners(hash, TestKeys.Create(1_000)), owner => Assert.Contains(owner, next));
    }

    [Fact]
    public void Owners_WithTheSameMembersAddedInAnyOrderOrWay_AreIdentical()
    {
        // Jump's members are its buckets, so "the same membership" means the same order there; the others must not care.
        WeightedNode<string>[] nodes =
        [
            .. TestKeys.Nodes(7).Select((n, i) => new WeightedNode<string>(n, SupportsWeights ? (i == 2 ? 2.0 : i == 5 ? 0.5 : 1.0) : 1.0)),
        ];
        WeightedNode<string>[] otherOrder = MembersOrderedByKey ? TestKeys.Shuffle(nodes, seed: 7) : nodes;
        Assert.True(!MembersOrderedByKey || !otherOrder.SequenceEqual(nodes));

        var options = new ConsistentHashOptions<string>();
        foreach (WeightedNode<string> node in nodes)
        {
            options.Nodes.Add(node);
        }

        IConsistentHash<string> fromOptions = Create(options);
        IConsistentHash<string> byAdd = CreateWith();
        foreach (WeightedNode<string> node in otherOrder)
        {
            byAdd.Add(node.Node, node.Weight);
        }

        IConsistentHash<string> bySetNodes = CreateWith("node-x", "node-y");
        bySetNodes.SetNodes(MembersOrderedByKey ? TestKeys.Shuffle(nodes, seed: 11) : nodes);

        string[] keys = TestKeys.Create(10_000);
        string[] expected = TestKeys.Owners(fromOptions, keys);
        Assert.Equal(expected, TestKeys.Owners(byAdd, keys));
        Assert.Equal(expected, TestKeys.Owners(bySetNodes, keys));
        Assert.Equal(TestKeys.PreferenceLists(fromOptions, keys[..1_000], 3), TestKeys.PreferenceLists(byAdd, keys[..1_000], 3));
        Assert.Equal(TestKeys.PreferenceLists(fromOptions, keys[..1_000], 3), TestKeys.PreferenceLists(bySetNodes, keys[..1_000], 3));
        Assert.Equal(fromOptions.Members.Select(m => m.Key), byAdd.Members.Select(m => m.Key));
        Assert.Equal(nodes.Length, expected.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Add_MovesKeysOnlyToTheNewNode()
    {
        IConsistentHash<string> hash = CreateWith(TestKeys.Nodes(10));
        string[] keys = TestKeys.Create(10_000);
        string[] before = TestKeys.Owners(hash, keys);

        hash.Add("node-new");
        string[] after = TestKeys.Owners(hash, keys);

        int moved = 0;
        int movedElsewhere = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (before[i] != after[i])
            {
                moved++;
                if (after[i] != "node-new")
                {
                    movedElsewhere++;
                }
            }
        }

        double ideal = keys.Length / 11.0;
        Assert.InRange(moved, 1, (int)(2 * ideal));
        if (MovesOnlyKeysOfTheChangedNode)
        {
            Assert.Equal(0, movedElsewhere);
        }
    }

    [Fact]
    public void Remove_MovesOnlyTheKeysOfTheRemovedNode()
    {
        IConsistentHash<string> hash = CreateWith(TestKeys.Nodes(10));
        string[] keys = TestKeys.Create(10_000);
        string[] before = TestKeys.Owners(hash, keys);
        string leaving = NodeToRemove(hash);

        Assert.True(hash.Remove(leaving));
        string[] after = TestKeys.Owners(hash, keys);

        int moved = 0;
        int movedFromOthers = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.NotEqual(leaving, after[i]);
            if (before[i] != after[i])
            {
                moved++;
                if (before[i] != leaving)
                {
                    movedFromOthers++;
                }
            }
        }

        double ideal = keys.Length / 10.0;
        Assert.InRange(moved, 1, (int)(2 * ideal));
        if (MovesOnlyKeysOfTheChangedNode)
        {
            Assert.Equal(0, movedFromOthers);
        }
    }

    [Fact]
    public void Replace_WithTheSameKey_MovesNoKeyButCountsAsAChange()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        string[] keys = TestKeys.Create(5_000);
        string[] before = TestKeys.Owners(hash, keys);
        long version = hash.Version;

        hash.Replace("node-c", "node-c");

        Assert.Equal(before, TestKeys.Owners(hash, keys));
        Assert.Equal(version + 1, hash.Version);
        Assert.Equal(5, hash.Count);
    }

    [Fact]
    public void Replace_WithANewKey_GivesTheSameOwnersAsBuildingTheNewMembership()
    {
        IConsistentHash<string> hash = CreateWith(FiveNodes);
        hash.Replace("node-b", "node-z");

        string[] expectedMembers = MembersOrderedByKey
            ? ["node-a", "node-c", "node-d", "node-e", "node-z"]
            : ["node-a", "node-z", "node-c", "node-d", "node-e"]; // Jump: the replacement takes the same bucket
        IConsistentHash<string> rebuilt = CreateWith(expectedMembers);
        string[] keys = TestKeys.Create(5_000);

        Assert.Equal(expectedMembers, hash.Members.Select(m => m.Key));
        Assert.Equal(TestKeys.Owners(rebuilt, keys), TestKeys.Owners(hash, keys));
        Assert.Equal(TestKeys.PreferenceLists(rebuilt, keys[..500], 3), TestKeys.PreferenceLists(hash, keys[..500], 3));
    }

    [Fact]
    public void Replace_KeepsTheWeightOfTheReplacedMember()
    {
        var options = new ConsistentHashOptions<string>();
        double weight = SupportsWeights ? 3.0 : 1.0;
        options.Nodes.Add(new WeightedNode<string>("node-a", weight));
        options.Nodes.Add(new WeightedNode<string>("node-b"));
        IConsistentHash<string> hash = Create(options);

        hash.Replace("node-a", "node-z");

        Assert.Equal(weight, hash.Members.Single(m => m.Key == "node-z").Weight);
    }

    [Theory]
    [InlineData(KeyHashAlgorithm.XxHash3)]
    [InlineData(KeyHashAlgorithm.XxHash64)]
    [InlineData(KeyHashAlgorithm.Murmur3)]
    public void HashKey_UsesTheConfiguredKeyHash(KeyHashAlgorithm algorithm)
    {
        var options = new ConsistentHashOptions<string> { KeyHash = algorithm };
        options.Nodes.Add(new WeightedNode<string>("node-a"));
        options.Nodes.Add(new WeightedNode<string>("node-b"));
        IConsistentHash<string> hash = Create(options);
        IKeyHasher expected = algorithm switch
        {
            KeyHashAlgorithm.XxHash3 => XxHash3KeyHasher.Instance,
            KeyHashAlgorithm.XxHash64 => XxHash64KeyHasher.Instance,
            _ => Murmur3KeyHasher.Instance,
        };

        Assert.Same(expected, hash.Hasher);
        foreach (string key in TestKeys.Special.Concat(TestKeys.Create(100)))
        {
            byte[] utf8 = TestKeys.Utf8(key);
            Assert.Equal(expected.Hash(utf8), hash.HashKey(key));
            Assert.Equal(expected.Hash(utf8), hash.HashKey(utf8));
            Assert.Equal(hash.GetNode(expected.Hash(utf8)), hash.GetNode(key));
            Assert.Equal(hash.GetNode(expected.Hash(utf8)), hash.GetNode(new ReadOnlySpan<byte>(utf8)));
        }
    }

    [Fact]
    public void HashKey_WithACustomKeyHasher_UsesItInsteadOfKeyHash()
    {
        var options = new ConsistentHashOptions<string> { KeyHash = KeyHashAlgorithm.Murmur3, KeyHasher = Fnv1aHasher.Instance };
        options.Nodes.Add(new WeightedNode<string>("node-a"));
        options.Nodes.Add(new WeightedNode<string>("node-b"));
        IConsistentHash<string> hash = Create(options);

        Assert.Same(Fnv1aHasher.Instance, hash.Hasher);
        Assert.Equal(Fnv1aHasher.Instance.Hash("ключ"u8), hash.HashKey("ключ"));
        Assert.Equal(Fnv1aHasher.Instance.Hash("ключ"u8), hash.HashKey("ключ"u8));
        Assert.Equal(hash.GetNode(Fnv1aHasher.Instance.Hash("ключ"u8)), hash.GetNode("ключ"));
    }

    [Fact]
    public async Task Lookups_WhileAnotherThreadChangesMembership_NeverThrowAndReturnNodesThatWereMembers()
    {
        string[] permanent = ["base-1", "base-2", "base-3"];
        string[] transient = TestKeys.Nodes(8, "extra-");
        var everMember = new HashSet<string>(permanent.Concat(transient), StringComparer.Ordinal);
        IConsistentHash<string> hash = CreateWith(permanent);
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;

        Task writer = Task.Run(
            () =>
            {
                for (int round = 0; round < 200; round++)
                {
                    string node = transient[(round * 3) % transient.Length];
                    if (!hash.Remove(node))
                    {
                        hash.Add(node);
                    }
                }
            },
            cancellationToken);

        Task[] readers =
        [
            .. Enumerable.Range(0, 2).Select(reader => Task.Run(
                () =>
                {
                    var destination = new string[3];
                    for (int i = 0; i < 10_000; i++)
                    {
                        string key = $"key-{reader}-{i}";
                        string owner = hash.GetNode(key);
                        Assert.True(everMember.Contains(owner), owner);
                        Assert.True(hash.TryGetNode(hash.HashKey(key), out string? tried));
                        Assert.True(everMember.Contains(tried!), tried);

                        int written = hash.GetNodes(key, destination);
                        Assert.Equal(3, written);
                        Assert.Equal(3, destination.Distinct(StringComparer.Ordinal).Count());
                        Assert.All(destination, node => Assert.True(everMember.Contains(node), node));
                    }
                },
                cancellationToken)),
        ];

        await Task.WhenAll([writer, .. readers]);

        Assert.All(permanent, node => Assert.True(hash.Contains(node)));
    }
}
