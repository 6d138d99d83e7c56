using BuildingBlocks.ConsistentHashing.Tests.Support;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing.Tests.Jump;

public class JumpHashTests
{
    [Theory]
    [InlineData(1UL, 100, 55)]
    [InlineData(2UL, 100, 62)]
    [InlineData(3UL, 100, 8)]
    [InlineData(4UL, 100, 45)]
    [InlineData(5UL, 100, 59)]
    [InlineData(0UL, 100, 0)]
    [InlineData(0UL, int.MaxValue, 0)]
    public void Bucket_MatchesPublishedReferenceValues(ulong key, int buckets, int expected)
    {
        // Published compatibility values of the C++ algorithm (Guava's HashingTest, consistentHash(n, 100)).
        Assert.Equal(expected, JumpHash.Bucket(key, buckets));
        Assert.Equal(expected, Reference.JumpBucket(key, buckets));
    }

    [Fact]
    public void Bucket_MatchesAStraightforwardImplementationOfThePaper()
    {
        var random = new Random(2014);
        int[] bucketCounts = [1, 2, 3, 7, 10, 100, 1_000, 65_536, 1_000_000, int.MaxValue];
        for (int i = 0; i < 20_000; i++)
        {
            ulong key = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            int buckets = i < bucketCounts.Length * 100 ? bucketCounts[i % bucketCounts.Length] : random.Next(1, 100_000);

            int bucket = JumpHash.Bucket(key, buckets);

            Assert.Equal(Reference.JumpBucket(key, buckets), bucket);
            Assert.InRange(bucket, 0, buckets - 1);
        }
    }

    [Fact]
    public void Bucket_WithOneBucket_IsAlwaysZero()
    {
        foreach (ulong key in new[] { 0UL, 1UL, 42UL, ulong.MaxValue, 1UL << 63 })
        {
            Assert.Equal(0, JumpHash.Bucket(key, 1));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Bucket_WithLessThanOneBucket_ThrowsArgumentOutOfRangeException(int buckets)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => JumpHash.Bucket(42, buckets));
    }

    [Fact]
    public void Bucket_WhenBucketsGrow_MovesKeysOnlyToTheNewBucket()
    {
        var random = new Random(7);
        for (int k = 0; k < 1_000; k++)
        {
            ulong key = (ulong)random.NextInt64();
            int previous = 0;
            for (int buckets = 2; buckets <= 300; buckets++)
            {
                int bucket = JumpHash.Bucket(key, buckets);
                Assert.True(bucket == previous || bucket == buckets - 1, $"key {key}: {buckets} buckets gave {bucket}, after {previous}");
                previous = bucket;
            }
        }
    }

    [Fact]
    public void Bucket_SpreadsKeysEvenly()
    {
        var counts = new int[10];
        for (ulong i = 0; i < 100_000; i++)
        {
            counts[JumpHash.Bucket(Reference.Fmix64(i), counts.Length)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void GetNode_IsTheMemberAtTheKeysBucketInInsertionOrder()
    {
        var hash = new JumpHash<string>(new ConsistentHashOptions<string>());
        string[] order = ["node-d", "node-a", "node-c", "node-b"];
        foreach (string node in order)
        {
            hash.Add(node);
        }

        Assert.Equal(order, hash.Members.Select(m => m.Key));
        foreach (string key in TestKeys.Create(2_000))
        {
            ulong keyHash = hash.HashKey(key);
            Assert.Equal(order[Reference.JumpBucket(keyHash, order.Length)], hash.GetNode(key));
        }
    }

    [Fact]
    public void Owners_DependOnTheBucketOrder()
    {
        var forward = new JumpHash<string>(new ConsistentHashOptions<string>());
        var backward = new JumpHash<string>(new ConsistentHashOptions<string>());
        foreach (string node in new[] { "node-a", "node-b", "node-c", "node-d" })
        {
            forward.Add(node);
        }

        foreach (string node in new[] { "node-d", "node-c", "node-b", "node-a" })
        {
            backward.Add(node);
        }

        string[] keys = TestKeys.Create(1_000);
        string[] forwardOwners = TestKeys.Owners(forward, keys);
        string[] backwardOwners = TestKeys.Owners(backward, keys);

        // Same bucket numbers, different nodes in them: owner in one is the mirror bucket's node in the other.
        Assert.NotEqual(forwardOwners, backwardOwners);
        for (int i = 0; i < keys.Length; i++)
        {
            int bucket = forward.Members.Select(m => m.Key).ToList().IndexOf(forwardOwners[i]);
            Assert.Equal(backward.Members[bucket].Key, backwardOwners[i]);
        }
    }

    [Fact]
    public void GetNodes_IsTheOwnersBucketThenTheFollowingBucketsWrapping()
    {
        var hash = new JumpHash<string>(new ConsistentHashOptions<string>());
        string[] order = TestKeys.Nodes(6);
        foreach (string node in order)
        {
            hash.Add(node);
        }

        foreach (string key in TestKeys.Create(1_000))
        {
            int bucket = Reference.JumpBucket(hash.HashKey(key), order.Length);
            string[] expected = [.. Enumerable.Range(0, 4).Select(i => order[(bucket + i) % order.Length])];
            Assert.Equal(expected, hash.GetNodes(key, 4));
        }
    }

    [Fact]
    public void Remove_OfAMiddleNode_MovesTheLastNodeIntoItsBucket()
    {
        var hash = new JumpHash<string>(new ConsistentHashOptions<string>());
        foreach (string node in new[] { "node-a", "node-b", "node-c", "node-d", "node-e" })
        {
            hash.Add(node);
        }

        string[] keys = TestKeys.Create(10_000);
        string[] before = TestKeys.Owners(hash, keys);

        Assert.True(hash.Remove("node-b"));
        string[] after = TestKeys.Owners(hash, keys);

        Assert.Equal(["node-a", "node-e", "node-c", "node-d"], hash.Members.Select(m => m.Key));
        for (int i = 0; i < keys.Length; i++)
        {
            if (before[i] == "node-b")
            {
                Assert.Equal("node-e", after[i]); // bucket 1 now holds node-e
            }
            else if (before[i] != "node-e")
            {
                Assert.Equal(before[i], after[i]);
            }
        }
    }

    [Fact]
    public void Replace_KeepsTheBucketSoOnlyTheOldNodesKeysMoveAllToTheReplacement()
    {
        var hash = new JumpHash<string>(new ConsistentHashOptions<string>());
        foreach (string node in TestKeys.Nodes(5))
        {
            hash.Add(node);
        }

        string[] keys = TestKeys.Create(10_000);
        string[] before = TestKeys.Owners(hash, keys);

        hash.Replace("node-002", "node-new");
        string[] after = TestKeys.Owners(hash, keys);

        Assert.Equal("node-new", hash.Members[2].Key);
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(before[i] == "node-002" ? "node-new" : before[i], after[i]);
        }
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(0.5)]
    [InlineData(1.0000001)]
    public void Add_WithWeightOtherThanOne_ThrowsArgumentOutOfRangeException(double weight)
    {
        var hash = new JumpHash<string>(new ConsistentHashOptions<string>());
        hash.Add("node-a");

        Assert.Throws<ArgumentOutOfRangeException>(() => hash.Add("node-b", weight));
        Assert.Throws<ArgumentOutOfRangeException>(() => hash.SetNodes([new WeightedNode<string>("node-b", weight)]));
        Assert.Equal(["node-a"], hash.Members.Select(m => m.Key));
    }

    [Fact]
    public void OptionsValidation_RejectsJumpWithWeightedNodes()
    {
        var options = new ConsistentHashOptions<string> { Algorithm = ConsistentHashAlgorithm.Jump };
        options.Nodes.Add(new WeightedNode<string>("node-a"));
        options.Nodes.Add(new WeightedNode<string>("node-b", 2));

        OptionsValidationException viaFactory = Assert.Throws<OptionsValidationException>(() => ConsistentHash.Create(options));
        OptionsValidationException viaConstructor = Assert.Throws<OptionsValidationException>(() => new JumpHash<string>(options));

        Assert.Contains("ConsistentHashOptions.Nodes[1].Weight = 2", viaFactory.Message, StringComparison.Ordinal);
        Assert.Contains("Jump", viaFactory.Message, StringComparison.Ordinal);
        Assert.Equal(viaFactory.Message, viaConstructor.Message);
    }

    [Fact]
    public void Constructor_WithWeightedNodesButAnotherAlgorithmOption_StillRejectsTheWeight()
    {
        // A direct constructor validates for the algorithm it builds, whatever options.Algorithm says.
        var options = new ConsistentHashOptions<string>();
        options.Nodes.Add(new WeightedNode<string>("node-a"));
        options.Nodes.Add(new WeightedNode<string>("node-b", 2));

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => new JumpHash<string>(options));

        Assert.Contains("ConsistentHashOptions.Nodes[1].Weight = 2", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, new HashRing<string>(options).Count);
    }
}
