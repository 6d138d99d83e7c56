using System.Globalization;
using System.Reflection;
using BuildingBlocks.Testing;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>Starts BuildingBlocks.TaskQueue.CrashHost roles as child processes (its dll path is recorded at build time).</summary>
internal static class CrashHost
{
    public const string WorkerQueue = "crash";
    public const string ProducerQueue = "produce";

    public static string AssemblyPath { get; } =
        typeof(CrashHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "CrashHostPath")?.Value
        ?? throw new InvalidOperationException("The test assembly has no CrashHostPath metadata; build BuildingBlocks.TaskQueue.CrashTests with its csproj.");

    /// <summary>A worker on queue "crash" that records START and FINISH lines in <paramref name="ledger"/>.</summary>
    public static ChildProcess StartWorker(string database, string name, string ledger, int concurrency, TimeSpan hold, TimeSpan lease) =>
        ChildProcess.StartDotnet(
            AssemblyPath,
            "worker",
            database,
            name,
            "--concurrency",
            Invariant(concurrency),
            "--hold-ms",
            Invariant((long)hold.TotalMilliseconds),
            "--lease-ms",
            Invariant((long)lease.TotalMilliseconds),
            "--ledger",
            ledger,
            "--max-run-s",
            "120");

    /// <summary>A producer that enqueues <paramref name="batches"/> batches of <paramref name="batchSize"/> tasks on queue "produce".</summary>
    public static ChildProcess StartProducer(string database, int batches, int batchSize, int run) =>
        ChildProcess.StartDotnet(AssemblyPath, "produce", database, Invariant(batches), Invariant(batchSize), "--run", Invariant(run), "--max-run-s", "120");

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
