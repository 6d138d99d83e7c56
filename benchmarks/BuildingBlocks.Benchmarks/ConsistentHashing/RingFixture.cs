using BuildingBlocks.ConsistentHashing;

namespace BuildingBlocks.Benchmarks.ConsistentHashing;

/// <summary>The shared shape of the ring benchmarks: 1,000 nodes × 160 virtual nodes, 16-byte keys.</summary>
internal static class RingFixture
{
    public const int Nodes = 1_000;
    public const int VirtualNodes = 160;
    public const int Keys = 1_024;

    public static string[] NodeNames() => [.. Enumerable.Range(0, Nodes).Select(i => $"10.0.{i / 250}.{i % 250}:6379")];

    public static byte[][] KeyBytes()
    {
        var keys = new byte[Keys][];
        for (int i = 0; i < Keys; i++)
        {
            keys[i] = new byte[16];
            DistributionAnalyzer.WriteSampleKey(i, keys[i]);
        }

        return keys;
    }

    public static ConsistentHash<string> Create(ConsistentHashAlgorithm algorithm, int nodes = Nodes)
    {
        var options = new ConsistentHashOptions<string> { Algorithm = algorithm, VirtualNodes = VirtualNodes };
        foreach (string node in NodeNames().Take(nodes))
        {
            options.Nodes.Add(new WeightedNode<string>(node));
        }

        return ConsistentHash.Create(options);
    }
}
