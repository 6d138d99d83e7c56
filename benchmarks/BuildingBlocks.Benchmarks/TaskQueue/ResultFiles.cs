using BenchmarkDotNet.Running;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// Figures a benchmark process computes beside BenchmarkDotNet's own (per-pickup percentiles, retained bytes) travel to
/// the host process's custom columns as small files: the host names a fresh directory in an environment variable, the
/// benchmark processes it starts inherit it, write one file per benchmark, and the columns read them.
/// </summary>
internal static class ResultFiles
{
    public const string DirectoryVariable = "BUILDINGBLOCKS_BENCHMARK_RESULTS_DIR";

    public static string Directory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } directory
            ? directory
            : Path.Combine(Path.GetTempPath(), "buildingblocks-benchmarks", "results");

    /// <summary>Called by the configs in the host process: names a fresh directory unless one is set already.</summary>
    public static void EnsureDirectoryForBenchmarkProcesses()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(DirectoryVariable)))
        {
            string directory = Path.Combine(Path.GetTempPath(), "buildingblocks-benchmarks", $"results-{Environment.ProcessId}-{DateTime.UtcNow:yyyyMMddHHmmss}");
            Environment.SetEnvironmentVariable(DirectoryVariable, directory);
        }
    }

    public static string KeyFor(Type type, string method) => $"{type.Name}.{method}";

    public static string KeyFor(BenchmarkCase benchmarkCase) => KeyFor(benchmarkCase.Descriptor.Type, benchmarkCase.Descriptor.WorkloadMethod.Name);

    public static void Write(string key, string kind, string text)
    {
        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllText(PathFor(key, kind), text);
    }

    public static string? Read(string key, string kind)
    {
        string path = PathFor(key, kind);
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    private static string PathFor(string key, string kind) => Path.Combine(Directory, $"{key}.{kind}.txt");
}
