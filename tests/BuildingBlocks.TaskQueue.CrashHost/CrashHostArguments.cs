using System.Globalization;

namespace BuildingBlocks.TaskQueue.CrashHost;

/// <summary>The command line of one crash-host process.</summary>
internal sealed class CrashHostArguments
{
    public const string Usage = """
        usage:
          worker  <db> <workerName> [--hold-ms N] [--concurrency N] [--lease-ms N] [--ledger <path>] [--max-run-s N]
          produce <db> <batches> <batchSize> [--run N] [--max-run-s N]
        """;

    public required string Role { get; init; }

    public required string Database { get; init; }

    /// <summary>worker: the worker id stored with its leases. produce: unused.</summary>
    public string WorkerName { get; init; } = "";

    /// <summary>worker: how long each task's simulated work takes.</summary>
    public TimeSpan Hold { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>worker: tasks run at once.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>worker: the lease length; heartbeats run every quarter of it, at most every 500 ms.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>worker: the file that records every start and finish (default: &lt;db&gt;.&lt;workerName&gt;.ledger).</summary>
    public string Ledger { get; init; } = "";

    /// <summary>produce: how many batches.</summary>
    public int Batches { get; init; }

    /// <summary>produce: tasks per batch.</summary>
    public int BatchSize { get; init; }

    /// <summary>produce: a run number carried in every payload, so several producer runs can share one file.</summary>
    public int Run { get; init; } = 1;

    /// <summary>The process stops on its own after this long, so an orphan never outlives its test.</summary>
    public TimeSpan MaxRun { get; init; } = TimeSpan.FromMinutes(2);

    public static CrashHostArguments Parse(string[] args)
    {
        string role = args[0];
        List<string> positional = [];
        Dictionary<string, string> named = new(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"Option {args[i]} needs a value.");
                }

                named[args[i]] = args[++i];
            }
            else
            {
                positional.Add(args[i]);
            }
        }

        TimeSpan maxRun = TimeSpan.FromSeconds(Int(named, "--max-run-s", 120));
        switch (role)
        {
            case "worker" when positional.Count == 2:
                return new CrashHostArguments
                {
                    Role = role,
                    Database = positional[0],
                    WorkerName = positional[1],
                    Hold = TimeSpan.FromMilliseconds(Int(named, "--hold-ms", 50)),
                    Concurrency = Int(named, "--concurrency", 4),
                    Lease = TimeSpan.FromMilliseconds(Int(named, "--lease-ms", 2000)),
                    Ledger = named.GetValueOrDefault("--ledger") ?? $"{positional[0]}.{positional[1]}.ledger",
                    MaxRun = maxRun,
                };
            case "produce" when positional.Count == 3:
                return new CrashHostArguments
                {
                    Role = role,
                    Database = positional[0],
                    Batches = Int(positional[1], "batches"),
                    BatchSize = Int(positional[2], "batchSize"),
                    Run = Int(named, "--run", 1),
                    MaxRun = maxRun,
                };
            default:
                throw new ArgumentException($"Bad arguments for role '{role}': {string.Join(' ', args)}");
        }
    }

    private static int Int(Dictionary<string, string> named, string name, int fallback) =>
        named.TryGetValue(name, out string? value) ? Int(value, name) : fallback;

    private static int Int(string value, string name) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0
            ? n
            : throw new ArgumentException($"{name} must be a non-negative integer; it was '{value}'.");
}
