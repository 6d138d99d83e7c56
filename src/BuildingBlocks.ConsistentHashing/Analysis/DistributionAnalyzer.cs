using System.Buffers.Binary;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Measures load balance (peak-to-mean, spread) and movement on membership change for an algorithm, on
/// synthetic deterministic keys, so the choice of algorithm and virtual-node count rests on numbers.
/// </summary>
public static class DistributionAnalyzer
{
    /// <summary>Runs the analysis. Cost grows with <c>KeyCount × (MovementTrials × 2 + 1)</c> lookups.</summary>
    /// <param name="options">What to measure.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range.</exception>
    public static DistributionReport Analyze(DistributionAnalysisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NodeCount, 2, "options.NodeCount");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.KeyCount, 1, "options.KeyCount");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MovementTrials, 1, "options.MovementTrials");

        string[] nodes = [.. Enumerable.Range(0, options.NodeCount).Select(i => $"node-{i:D4}")];
        ConsistentHash<string> hash = Create(options, nodes);
        ulong[] keys = CreateKeyHashes(hash.Hasher, options.KeyCount);
        string[] before = Owners(hash, keys);

        (double peak, double min, double rsd, bool exact) = MeasureLoad(hash, nodes, before);

        double movedOnAdd = 0;
        double movedOnRemove = 0;
        long stray = 0;
        for (int t = 0; t < options.MovementTrials; t++)
        {
            string extra = $"extra-{t:D4}";
            hash.Add(extra);
            string[] afterAdd = Owners(hash, keys);
            (long moved, long strayAdd) = CountMoves(before, afterAdd, extra, isAdd: true);
            movedOnAdd += (double)moved / keys.Length;
            stray += strayAdd;
            hash.Remove(extra);

            // Jump can only shrink at the end without moving other buckets' keys; the others remove a spread of nodes.
            string leaving = options.Algorithm == ConsistentHashAlgorithm.Jump ? nodes[^1] : nodes[(int)((long)t * nodes.Length / options.MovementTrials)];
            hash.Remove(leaving);
            string[] afterRemove = Owners(hash, keys);
            (moved, long strayRemove) = CountMoves(before, afterRemove, leaving, isAdd: false);
            movedOnRemove += (double)moved / keys.Length;
            stray += strayRemove;
            hash.SetNodes(nodes.Select(n => new WeightedNode<string>(n)));
            if (options.Algorithm == ConsistentHashAlgorithm.BoundedLoad)
            {
                before = Owners(hash, keys); // the fresh instance's loads start from zero again
            }
        }

        return new DistributionReport
        {
            Algorithm = options.Algorithm,
            NodeCount = options.NodeCount,
            VirtualNodes = options.VirtualNodes,
            KeyCount = options.KeyCount,
            ExactLoads = exact,
            PeakToMean = peak,
            MinToMean = min,
            RelativeStandardDeviation = rsd,
            MovedOnAdd = movedOnAdd / options.MovementTrials,
            MovedOnRemove = movedOnRemove / options.MovementTrials,
            StrayMoves = (double)stray / ((long)keys.Length * options.MovementTrials * 2),
        };
    }

    /// <summary>The deterministic 16-byte sample key number <paramref name="i"/>: i and fmix64(i), little-endian.</summary>
    /// <param name="i">The key number.</param>
    /// <param name="destination">At least 16 bytes.</param>
    public static void WriteSampleKey(long i, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, i);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), Mixer.Fmix64((ulong)i));
    }

    private static ConsistentHash<string> Create(DistributionAnalysisOptions options, string[] nodes)
    {
        var hashOptions = new ConsistentHashOptions<string>
        {
            Algorithm = options.Algorithm,
            VirtualNodes = options.VirtualNodes,
            KeyHash = options.KeyHash,
            MaglevTableSize = options.MaglevTableSize,
            BoundedLoadEpsilon = options.BoundedLoadEpsilon,
        };
        foreach (string node in nodes)
        {
            hashOptions.Nodes.Add(new WeightedNode<string>(node));
        }

        return ConsistentHash.Create(hashOptions);
    }

    private static ulong[] CreateKeyHashes(IKeyHasher hasher, int count)
    {
        var hashes = new ulong[count];
        Span<byte> key = stackalloc byte[16];
        for (int i = 0; i < count; i++)
        {
            WriteSampleKey(i, key);
            hashes[i] = hasher.Hash(key);
        }

        return hashes;
    }

    private static string[] Owners(ConsistentHash<string> hash, ulong[] keys)
    {
        var owners = new string[keys.Length];
        if (hash is BoundedLoadHashRing<string> bounded)
        {
            // Bounded loads depend on what is already placed: assign the whole key set to a fresh copy, in order.
            var fresh = new BoundedLoadHashRing<string>(new ConsistentHashOptions<string>
            {
                VirtualNodes = bounded.VirtualNodes,
                BoundedLoadEpsilon = bounded.Epsilon,
                KeyHasher = bounded.Hasher,
            });
            fresh.SetNodes(bounded.Members.Select(m => new WeightedNode<string>(m.Node, m.Weight)));
            for (int i = 0; i < keys.Length; i++)
            {
                owners[i] = fresh.Acquire(keys[i]).Node;
            }

            return owners;
        }

        for (int i = 0; i < keys.Length; i++)
        {
            owners[i] = hash.GetNode(keys[i]);
        }

        return owners;
    }

    private static (double Peak, double Min, double Rsd, bool Exact) MeasureLoad(ConsistentHash<string> hash, string[] nodes, string[] owners)
    {
        double[] loads = hash switch
        {
            HashRing<string> ring => ring.GetKeyspaceShares(),
            MaglevHash<string> maglev => maglev.GetKeyspaceShares(),
            _ => CountOwners(nodes, owners),
        };
        bool exact = hash is HashRing<string> or MaglevHash<string>;
        double mean = loads.Average();
        double variance = loads.Sum(l => (l - mean) * (l - mean)) / loads.Length;
        return (loads.Max() / mean, loads.Min() / mean, Math.Sqrt(variance) / mean, exact);
    }

    private static double[] CountOwners(string[] nodes, string[] owners)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Length; i++)
        {
            index[nodes[i]] = i;
        }

        var counts = new double[nodes.Length];
        foreach (string owner in owners)
        {
            counts[index[owner]]++;
        }

        return counts;
    }

    private static (long Moved, long Stray) CountMoves(string[] before, string[] after, string changed, bool isAdd)
    {
        long moved = 0;
        long stray = 0;
        for (int i = 0; i < before.Length; i++)
        {
            if (string.Equals(before[i], after[i], StringComparison.Ordinal))
            {
                continue;
            }

            moved++;
            bool explained = isAdd ? string.Equals(after[i], changed, StringComparison.Ordinal) : string.Equals(before[i], changed, StringComparison.Ordinal);
            if (!explained)
            {
                stray++;
            }
        }

        return (moved, stray);
    }
}
