namespace BuildingBlocks.Caching.Analysis;

/// <summary>
/// Seeded Zipf(s) sampler over <c>n</c> keys: rank r (1-based) has probability proportional to 1/r^s. Ranks are
/// mapped to keys through a seeded permutation, so the hot keys are not the small numbers.
/// </summary>
internal sealed class Zipf
{
    private readonly double[] _cdf;
    private readonly int[] _keyOfRank;
    private readonly Random _random;

    public Zipf(int n, double s, int seed)
    {
        _cdf = new double[n];
        double sum = 0;
        for (int rank = 1; rank <= n; rank++)
        {
            sum += 1.0 / Math.Pow(rank, s);
            _cdf[rank - 1] = sum;
        }

        for (int i = 0; i < n; i++)
        {
            _cdf[i] /= sum;
        }

        _cdf[n - 1] = 1.0;
        _random = new Random(seed);
        _keyOfRank = new int[n];
        for (int i = 0; i < n; i++)
        {
            _keyOfRank[i] = i;
        }

        new Random(seed ^ 0x5bd1e995).Shuffle(_keyOfRank);
    }

    /// <summary>The next key, in 0..n-1.</summary>
    public int Next()
    {
        double u = _random.NextDouble();
        int index = Array.BinarySearch(_cdf, u);
        if (index < 0)
        {
            index = ~index;
        }

        return _keyOfRank[Math.Min(index, _keyOfRank.Length - 1)];
    }
}
