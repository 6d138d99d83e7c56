using System.Globalization;
using System.Reflection;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Caching.IntegrationTests.Crash;

/// <summary>Starts BuildingBlocks.Caching.CrashHost (its dll path is recorded at build time).</summary>
internal static class CrashHost
{
    /// <summary>The cache name the crash host uses (journal entries are kept under it).</summary>
    public const string CacheName = "items";

    public static string AssemblyPath { get; } =
        typeof(CrashHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "CrashHostPath")?.Value
        ?? throw new InvalidOperationException("The test assembly has no CrashHostPath metadata; build BuildingBlocks.Caching.IntegrationTests with its csproj.");

    /// <summary>A writer that sets random keys in 1..<paramref name="keys"/> to "&lt;tag&gt;-&lt;i&gt;" until it is killed.</summary>
    /// <remarks><paramref name="clockOffset"/> shifts the wall clock the child's cache sees (a machine whose clock is behind another's).</remarks>
    public static ChildProcess StartWriter(string store, string tag, string? journal, TimeSpan flushInterval, int keys, int seed, TimeSpan clockOffset = default)
    {
        List<string> arguments = ["run", store, tag, "--flush-ms", Invariant((long)flushInterval.TotalMilliseconds), "--keys", Invariant(keys), "--seed", Invariant(seed), "--max-run-s", "60"];
        if (clockOffset != TimeSpan.Zero)
        {
            arguments.AddRange(["--clock-offset-ms", Invariant((long)clockOffset.TotalMilliseconds)]);
        }

        if (journal is not null)
        {
            arguments.AddRange(["--journal", journal]);
        }

        return ChildProcess.StartDotnet(AssemblyPath, [.. arguments]);
    }

    /// <summary>Starts the cache (the journal, if any, is replayed), stops it (the buffer is flushed) and exits.</summary>
    public static ChildProcess StartRecovery(string store, string? journal) =>
        journal is null
            ? ChildProcess.StartDotnet(AssemblyPath, "recover", store)
            : ChildProcess.StartDotnet(AssemblyPath, "recover", store, "--journal", journal);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
