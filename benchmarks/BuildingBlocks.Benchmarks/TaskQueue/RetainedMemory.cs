using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// Bytes a structure keeps per item once it holds <c>count</c> items: <see cref="GC.GetTotalMemory(bool)"/> with a full
/// collection before and after filling a fresh instance (the inputs already exist before the first reading, so only what
/// the structure copies or allocates and keeps is counted), divided by the item count.
/// </summary>
internal static class RetainedMemory
{
    public const string FileKind = "retained";

    public static double BytesPerItem(int count, Func<object> fill)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        object kept = fill();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(kept);
        return (after - before) / (double)count;
    }

    /// <summary>Measures, prints the figure to the BenchmarkDotNet log and leaves it for <see cref="RetainedMemoryColumn"/>.</summary>
    public static void Record(string key, int count, Func<object> fill)
    {
        double bytes = BytesPerItem(count, fill);
        Console.WriteLine($"// TaskQueue retained memory {key}: {bytes:F1} bytes per item with {count:N0} items held (GC.GetTotalMemory(true) before and after)");
        ResultFiles.Write(key, FileKind, bytes.ToString("R", CultureInfo.InvariantCulture));
    }
}

/// <summary>Shows <see cref="RetainedMemory"/>'s bytes per held item for the rows that recorded one.</summary>
internal sealed class RetainedMemoryColumn : IColumn
{
    public string Id => nameof(RetainedMemoryColumn);

    public string ColumnName => "Retained/task";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Bytes still held per queued task with 100,000 tasks in a fresh instance (GC.GetTotalMemory(true) before and after, measured once in the benchmark process)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        ResultFiles.Read(ResultFiles.KeyFor(benchmarkCase), RetainedMemory.FileKind) is { } text
            ? double.Parse(text, CultureInfo.InvariantCulture).ToString("F0", CultureInfo.InvariantCulture) + " B"
            : "-";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public override string ToString() => ColumnName;
}

/// <summary>Adds <see cref="RetainedMemoryColumn"/> and the results directory the benchmark processes write to.</summary>
internal sealed class RetainedMemoryConfig : ManualConfig
{
    public RetainedMemoryConfig()
    {
        ResultFiles.EnsureDirectoryForBenchmarkProcesses();
        AddColumn(new RetainedMemoryColumn());
    }
}
