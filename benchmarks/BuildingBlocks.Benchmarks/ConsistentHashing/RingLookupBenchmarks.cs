using BenchmarkDotNet.Attributes;
using BuildingBlocks.ConsistentHashing;

namespace BuildingBlocks.Benchmarks.ConsistentHashing;

/// <summary>
/// One lookup, XxHash3 of a 16-byte key included, on 1,000 nodes × 160 virtual nodes (160,000 points).
/// Each invocation looks up 1,024 different keys, so the figures are per lookup over a spread of the ring.
/// </summary>
[MemoryDiagnoser]
public class RingLookupBenchmarks
{
    private byte[][] _keys = [];
    private ulong[] _hashes = [];
    private NaiveSortedRing _naive = null!;
    private HashRing<string> _ring = null!;
    private string[] _destination = new string[3];

    [GlobalSetup]
    public void Setup()
    {
        _keys = RingFixture.KeyBytes();
        _ring = (HashRing<string>)RingFixture.Create(ConsistentHashAlgorithm.Ring);
        _hashes = [.. _keys.Select(k => _ring.HashKey(k))];
        _naive = new NaiveSortedRing(RingFixture.NodeNames(), RingFixture.VirtualNodes);
        _destination = new string[3];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RingFixture.Keys, Description = "Naive sorted ulong[] + BinarySearch")]
    public int NaiveBinarySearch()
    {
        int sum = 0;
        foreach (byte[] key in _keys)
        {
            sum += _naive.GetNode(key).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = RingFixture.Keys, Description = "HashRing.GetNode(bytes)")]
    public int HashRingGetNode()
    {
        int sum = 0;
        foreach (byte[] key in _keys)
        {
            sum += _ring.GetNode(key).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = RingFixture.Keys, Description = "HashRing.GetNode(ulong hash)")]
    public int HashRingGetNodePrehashed()
    {
        int sum = 0;
        foreach (ulong hash in _hashes)
        {
            sum += _ring.GetNode(hash).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = RingFixture.Keys, Description = "HashRing.GetNodes(bytes, 3)")]
    public int HashRingGetNodes3()
    {
        int sum = 0;
        Span<string> destination = _destination;
        foreach (byte[] key in _keys)
        {
            sum += _ring.GetNodes(key, destination);
        }

        return sum;
    }
}
