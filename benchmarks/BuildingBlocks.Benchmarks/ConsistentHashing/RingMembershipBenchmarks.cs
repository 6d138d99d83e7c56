using BenchmarkDotNet.Attributes;
using BuildingBlocks.ConsistentHashing;

namespace BuildingBlocks.Benchmarks.ConsistentHashing;

/// <summary>
/// One membership change on a 1,000-node × 160-virtual-node ring: a node joins, then leaves again
/// (two changes per invocation, so the figures are per change), against the hand-rolled append-and-sort ring.
/// </summary>
[MemoryDiagnoser]
public class RingMembershipBenchmarks
{
    private NaiveSortedRing _naive = null!;
    private HashRing<string> _ring = null!;
    private WeightedNode<string>[][] _memberships = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _ring = (HashRing<string>)RingFixture.Create(ConsistentHashAlgorithm.Ring);
        _naive = new NaiveSortedRing(RingFixture.NodeNames(), RingFixture.VirtualNodes);
        // Two memberships that differ in one node, alternated so every SetNodes is a real change
        // (setting the current members again is a no-op).
        WeightedNode<string>[] members = [.. RingFixture.NodeNames().Select(n => new WeightedNode<string>(n))];
        WeightedNode<string>[] other = [.. members];
        other[^1] = new WeightedNode<string>("10.9.9.8:6379");
        _memberships = [members, other];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 2, Description = "Naive: append + sort, filter")]
    public void NaiveAddRemove()
    {
        _naive.Add("10.9.9.9:6379", RingFixture.VirtualNodes);
        _naive.Remove("10.9.9.9:6379");
    }

    [Benchmark(OperationsPerInvoke = 2, Description = "HashRing.Add + Remove (incremental)")]
    public void HashRingAddRemove()
    {
        _ring.Add("10.9.9.9:6379");
        _ring.Remove("10.9.9.9:6379");
    }

    [Benchmark(OperationsPerInvoke = 1, Description = "HashRing.SetNodes (full rebuild)")]
    public void HashRingSetNodes() => _ring.SetNodes(_memberships[_next++ & 1]);
}
