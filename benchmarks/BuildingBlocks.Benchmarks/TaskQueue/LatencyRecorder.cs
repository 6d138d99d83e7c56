using System.Diagnostics;
using System.Globalization;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// Records the latency of every operation of one benchmark (Stopwatch ticks from just before the enqueue to the
/// timestamp the handler took as its first statement), inside the benchmark process. At global cleanup it keeps the
/// <c>take</c> operations after the first <c>skip</c> (with one operation per iteration and the Monitoring strategy:
/// the measured iterations, after the warm-up ones and before the memory diagnoser's extra run), writes p50/p99/max to
/// <see cref="ResultFiles"/> for <see cref="PickupLatencyColumn"/>, and prints them to the BenchmarkDotNet log.
/// </summary>
internal sealed class LatencyRecorder(string key, int skip, int take)
{
    public const string FileKind = "latency";

    private readonly List<long> _ticks = new(4096);

    public void Add(long startTimestamp, long endTimestamp) => _ticks.Add(endTimestamp - startTimestamp);

    public void Write()
    {
        int first = Math.Min(skip, Math.Max(0, _ticks.Count - take));
        long[] measured = [.. _ticks.Skip(first).Take(take)];
        if (measured.Length == 0)
        {
            return;
        }

        Array.Sort(measured);
        var result = new LatencyPercentiles(measured.Length, Milliseconds(Percentile(measured, 0.50)), Milliseconds(Percentile(measured, 0.99)), Milliseconds(measured[^1]));
        Console.WriteLine($"// TaskQueue latency {key}: {result.Count} operations, p50 {result.P50:F3} ms, p99 {result.P99:F3} ms, max {result.Max:F3} ms (operations {first + 1} to {first + result.Count} of {_ticks.Count})");
        ResultFiles.Write(key, FileKind, result.ToString());
    }

    /// <summary>Nearest-rank percentile of sorted values: the smallest value with at least q of the values at or below it.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q) => sorted[Rank(sorted.Count, q)];

    private static long Percentile(long[] sorted, double q) => sorted[Rank(sorted.Length, q)];

    private static int Rank(int count, double q) => Math.Clamp((int)Math.Ceiling(q * count) - 1, 0, count - 1);

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Percentiles of one benchmark's recorded operations, in milliseconds.</summary>
internal sealed record LatencyPercentiles(int Count, double P50, double P99, double Max)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Count} {P50:R} {P99:R} {Max:R}");

    public static LatencyPercentiles? TryRead(string key)
    {
        string[]? parts = ResultFiles.Read(key, LatencyRecorder.FileKind)?.Split(' ');
        return parts?.Length == 4
            ? new LatencyPercentiles(
                int.Parse(parts[0], CultureInfo.InvariantCulture),
                double.Parse(parts[1], CultureInfo.InvariantCulture),
                double.Parse(parts[2], CultureInfo.InvariantCulture),
                double.Parse(parts[3], CultureInfo.InvariantCulture))
            : null;
    }
}
