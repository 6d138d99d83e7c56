using BenchmarkDotNet.Attributes;
using BuildingBlocks.ConsistentHashing;

namespace BuildingBlocks.Benchmarks.ConsistentHashing;

/// <summary>GetNode(bytes) for every algorithm behind IConsistentHash, same keys, same nodes, against the naive ring.</summary>
[MemoryDiagnoser]
public class AlgorithmLookupBenchmarks
{
    private byte[][] _keys = [];
    private NaiveSortedRing _naive = null!;
    private IConsistentHash<string> _hash = null!;

    [Params(ConsistentHashAlgorithm.Ring, ConsistentHashAlgorithm.Jump, ConsistentHashAlgorithm.Maglev, ConsistentHashAlgorithm.BoundedLoad, ConsistentHashAlgorithm.Rendezvous)]
    public ConsistentHashAlgorithm Algorithm { get; set; }

    [Params(10, 1_000)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = RingFixture.KeyBytes();
        _hash = RingFixture.Create(Algorithm, Nodes);
        _naive = new NaiveSortedRing(RingFixture.NodeNames().Take(Nodes), RingFixture.VirtualNodes);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RingFixture.Keys, Description = "Naive ring")]
    public int Naive()
    {
        int sum = 0;
        foreach (byte[] key in _keys)
        {
            sum += _naive.GetNode(key).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = RingFixture.Keys, Description = "IConsistentHash.GetNode")]
    public int GetNode()
    {
        int sum = 0;
        foreach (byte[] key in _keys)
        {
            sum += _hash.GetNode(key).Length;
        }

        return sum;
    }
}
