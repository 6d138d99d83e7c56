using System.Globalization;
using System.Reflection;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>Starts BuildingBlocks.Sagas.CrashHost coordinators as child processes (its dll path is recorded at build time).</summary>
internal static class SagaCrashHost
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public static string AssemblyPath { get; } =
        typeof(SagaCrashHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "CrashHostPath")?.Value
        ?? throw new InvalidOperationException("The test assembly has no CrashHostPath metadata; build BuildingBlocks.Sagas.CrashTests with its csproj.");

    /// <summary>
    /// A coordinator named <paramref name="coordinator"/> on <paramref name="target"/>'s store that first starts the sagas
    /// with indexes [<paramref name="startFrom"/>, <paramref name="startFrom"/> + <paramref name="startCount"/>).
    /// </summary>
    public static ChildProcess StartRun(
        CrashTarget target,
        string ledger,
        string coordinator,
        int startFrom = 0,
        int startCount = 0,
        bool exitWhenDone = false,
        TimeSpan? lease = null,
        int maxConcurrent = 16,
        TimeSpan? maxPause = null)
    {
        List<string> arguments =
        [
            "run",
            .. target.HostArguments,
            "--ledger", ledger,
            "--coordinator", coordinator,
            "--start-from", Invariant(startFrom),
            "--start-count", Invariant(startCount),
            "--lease-ms", Invariant((long)(lease ?? TimeSpan.FromSeconds(1)).TotalMilliseconds),
            "--max-concurrent", Invariant(maxConcurrent),
            "--pause-ms", Invariant((long)(maxPause ?? TimeSpan.FromMilliseconds(30)).TotalMilliseconds),
            "--max-run-s", "150",
        ];
        if (exitWhenDone)
        {
            arguments.Add("--exit-when-done");
        }

        return ChildProcess.StartDotnet(AssemblyPath, [.. arguments]);
    }

    /// <summary>Waits for the READY line and returns the coordinator id it names.</summary>
    public static async Task<string> WaitReadyAsync(ChildProcess child, CancellationToken cancellationToken)
    {
        string line = await child.WaitForLineAsync(l => l.StartsWith("READY ", StringComparison.Ordinal), StartTimeout, cancellationToken);
        return line["READY ".Length..];
    }

    /// <summary>The lines of <paramref name="child"/> that start with <paramref name="prefix"/>.</summary>
    public static IReadOnlyList<string> LinesStartingWith(ChildProcess child, string prefix) =>
        [.. child.Lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal))];

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
