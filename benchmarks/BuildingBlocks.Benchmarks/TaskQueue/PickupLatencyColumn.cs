using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>Where a latency percentile column takes its samples from.</summary>
internal enum LatencySource
{
    /// <summary>
    /// BenchmarkDotNet's own measurements: one operation per iteration, so every measured (workload, actual) iteration
    /// is one pickup as the producer sees it, from the enqueue call until its await of the handler's signal returns.
    /// </summary>
    Iterations,

    /// <summary>The <see cref="LatencyRecorder"/> file: Stopwatch from just before the enqueue to the handler's first statement.</summary>
    HandlerStart,
}

/// <summary>
/// Marks another pickup-latency benchmark class (one pickup per iteration, a <see cref="LatencyRecorder"/> keyed by
/// <see cref="ResultFiles.KeyFor(BenchmarkCase)"/>) whose rows get the <see cref="PickupLatencyColumn"/> values.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class PickupLatencyBenchmarkAttribute : Attribute;

/// <summary>
/// A p50 or p99 column for <see cref="TaskQueuePickupLatencyBenchmarks"/> and the classes marked with
/// <see cref="PickupLatencyBenchmarkAttribute"/>, in milliseconds.
/// </summary>
internal sealed class PickupLatencyColumn(LatencySource source, double quantile) : IColumn
{
    public string Id => $"{nameof(PickupLatencyColumn)}.{source}.{quantile.ToString(CultureInfo.InvariantCulture)}";

    public string ColumnName => source == LatencySource.Iterations
        ? $"P{quantile * 100:0} op"
        : $"P{quantile * 100:0} handler";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (source == LatencySource.Iterations ? 0 : 10) + (int)(quantile * 10);

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => source == LatencySource.Iterations
        ? $"{quantile:P0} of measured iterations (one pickup each, outliers kept) took at most this long: enqueue call to the producer's await returning, ms"
        : $"{quantile:P0} of recorded pickups took at most this long: Stopwatch before the enqueue to the handler's first statement, ms";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        Type type = benchmarkCase.Descriptor.Type;
        if (type != typeof(TaskQueuePickupLatencyBenchmarks) && !type.IsDefined(typeof(PickupLatencyBenchmarkAttribute), inherit: false))
        {
            // A joined summary shows every class's columns on every row.
            return "-";
        }

        double? milliseconds = source == LatencySource.Iterations ? FromIterations(summary, benchmarkCase) : FromRecorder(benchmarkCase);
        return milliseconds is { } value ? value.ToString("F3", CultureInfo.InvariantCulture) + " ms" : "-";
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public override string ToString() => ColumnName;

    private double? FromIterations(Summary summary, BenchmarkCase benchmarkCase)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report is null)
        {
            return null;
        }

        double[] perOperation = [.. report.AllMeasurements
            .Where(m => m.IterationMode == IterationMode.Workload && m.IterationStage == IterationStage.Actual && m.Operations > 0)
            .Select(m => m.Nanoseconds / m.Operations / 1_000_000.0)
            .Order()];
        return perOperation.Length == 0 ? null : LatencyRecorder.Percentile(perOperation, quantile);
    }

    private double? FromRecorder(BenchmarkCase benchmarkCase)
    {
        LatencyPercentiles? recorded = LatencyPercentiles.TryRead(ResultFiles.KeyFor(benchmarkCase));
        return recorded is null ? null : quantile >= 0.99 ? recorded.P99 : recorded.P50;
    }
}

/// <summary>
/// Adds the p50/p99 columns and gives the benchmark processes (which inherit the host's environment) a fresh directory
/// for their <see cref="LatencyRecorder"/> files.
/// </summary>
internal sealed class PickupLatencyConfig : ManualConfig
{
    public PickupLatencyConfig()
    {
        ResultFiles.EnsureDirectoryForBenchmarkProcesses();
        AddColumn(
            new PickupLatencyColumn(LatencySource.Iterations, 0.50),
            new PickupLatencyColumn(LatencySource.Iterations, 0.99),
            new PickupLatencyColumn(LatencySource.HandlerStart, 0.50),
            new PickupLatencyColumn(LatencySource.HandlerStart, 0.99));
    }
}
