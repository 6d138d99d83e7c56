using System.Diagnostics;
using System.Globalization;
using Hangfire.Common;

namespace BuildingBlocks.Benchmarks.PostgreSqlWorker;

/// <summary>The handler of both workers: the Stopwatch timestamp first, then the line the benchmark waits for.</summary>
public static class WorkerJobs
{
    private const string BenchmarkJobType = "BuildingBlocks.Benchmarks.PostgreSql.PostgreSqlHangfireJobs";

    public static void SignalStart()
    {
        long now = Stopwatch.GetTimestamp();
        Console.Out.WriteLine("START " + now.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Hangfire's type resolver here: the benchmark's job class is this one; everything else as by default.</summary>
    public static Type ResolveType(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        int comma = typeName.IndexOf(',', StringComparison.Ordinal);
        string name = comma < 0 ? typeName : typeName[..comma];
        return name.Trim() == BenchmarkJobType ? typeof(WorkerJobs) : TypeHelper.DefaultTypeResolver(typeName);
    }
}
