using BenchmarkDotNet.Attributes;
using BuildingBlocks.ConsistentHashing;

namespace BuildingBlocks.Benchmarks.ConsistentHashing;

/// <summary>
/// One lookup, XxHash3 of a 16-byte key included, on 1,000 nodes × 160 virtual nodes (160,000 points).
/// Each invocation looks up 1,024 keys, so figures are per lookup. The key set is either 1,024 keys (every
/// invocation repeats them: the ring's hot lines stay in cache, the best case for a binary search) or
/// 1,048,576 keys walked in windows of 1,024 (lookups spread over the whole ring, as in a service).
/// </summary>
[MemoryDiagnoser]
public class RingLookupBenchmarks
{
    private const int LookupsPerInvoke = 1_024;

    private byte[] _keyBytes = [];
    private ulong[] _hashes = [];
    private int _offset;
    private NaiveSortedRing _naive = null!;
    private HashRing<string> _ring = null!;
    private string[] _destination = new string[3];

    [Params(1_024, 1_048_576)]
    public int KeySetSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ring = (HashRing<string>)RingFixture.Create(ConsistentHashAlgorithm.Ring);
        _naive = new NaiveSortedRing(RingFixture.NodeNames(), RingFixture.VirtualNodes);
        _keyBytes = new byte[KeySetSize * 16];
        _hashes = new ulong[KeySetSize];
        for (int i = 0; i < KeySetSize; i++)
        {
            Span<byte> key = _keyBytes.AsSpan(i * 16, 16);
            DistributionAnalyzer.WriteSampleKey(i, key);
            _hashes[i] = _ring.HashKey(key);
        }

        _destination = new string[3];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = LookupsPerInvoke, Description = "Naive sorted ulong[] + BinarySearch")]
    public int NaiveBinarySearch()
    {
        int sum = 0;
        int start = NextWindow();
        for (int i = 0; i < LookupsPerInvoke; i++)
        {
            sum += _naive.GetNode(Key(start + i)).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = LookupsPerInvoke, Description = "HashRing.GetNode(bytes)")]
    public int HashRingGetNode()
    {
        int sum = 0;
        int start = NextWindow();
        for (int i = 0; i < LookupsPerInvoke; i++)
        {
            sum += _ring.GetNode(Key(start + i)).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = LookupsPerInvoke, Description = "HashRing.GetNode(ulong hash)")]
    public int HashRingGetNodePrehashed()
    {
        int sum = 0;
        int start = NextWindow();
        for (int i = 0; i < LookupsPerInvoke; i++)
        {
            sum += _ring.GetNode(_hashes[start + i]).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = LookupsPerInvoke, Description = "HashRing.GetNodes(bytes, 3)")]
    public int HashRingGetNodes3()
    {
        int sum = 0;
        Span<string> destination = _destination;
        int start = NextWindow();
        for (int i = 0; i < LookupsPerInvoke; i++)
        {
            sum += _ring.GetNodes(Key(start + i), destination);
        }

        return sum;
    }

    private ReadOnlySpan<byte> Key(int i) => _keyBytes.AsSpan(i * 16, 16);

    // The next window of 1,024 keys; with 1,024 keys it is always the same one.
    private int NextWindow()
    {
        int start = _offset;
        _offset = (_offset + LookupsPerInvoke) % KeySetSize;
        return start;
    }
}
