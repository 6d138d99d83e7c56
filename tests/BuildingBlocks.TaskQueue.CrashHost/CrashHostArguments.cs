using System.Globalization;

namespace BuildingBlocks.TaskQueue.CrashHost;

/// <summary>The command line of one crash-host process.</summary>
internal sealed class CrashHostArguments
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public const string Usage = """
        usage:
          worker  <db> <workerName> [--hold-ms N] [--concurrency N] [--lease-ms N] [--ledger <path>] [--max-run-s N]
          worker  <workerName> --store postgres --connection-string <cs> [--schema <name>] --ledger <path> [options above]
          produce <db> <batches> <batchSize> [--run N] [--max-run-s N]
          produce <batches> <batchSize> --store postgres --connection-string <cs> [--schema <name>] [options above]
        --store is sqlite (the default: <db> is the SQLite file) or postgres (no <db>: the store is the schema, default
        'taskqueue', in the database of the Npgsql connection string).
        """;

    private static readonly string[] s_workerOptions = ["--hold-ms", "--concurrency", "--lease-ms", "--ledger", "--max-run-s", "--store", "--connection-string", "--schema"];
    private static readonly string[] s_producerOptions = ["--run", "--max-run-s", "--store", "--connection-string", "--schema"];

    public required string Role { get; init; }

    /// <summary><see cref="Sqlite"/> or <see cref="Postgres"/>.</summary>
    public string Store { get; init; } = Sqlite;

    /// <summary>sqlite: the database file. postgres: empty.</summary>
    public string Database { get; init; } = "";

    /// <summary>postgres: the Npgsql connection string.</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>postgres: the schema holding the tables.</summary>
    public string Schema { get; init; } = "taskqueue";

    /// <summary>worker: the worker id stored with its leases. produce: unused.</summary>
    public string WorkerName { get; init; } = "";

    /// <summary>worker: how long each task's simulated work takes.</summary>
    public TimeSpan Hold { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>worker: tasks run at once.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>worker: the lease length; heartbeats run every quarter of it, at most every 500 ms.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>worker: the file that records every start and finish (sqlite default: &lt;db&gt;.&lt;workerName&gt;.ledger).</summary>
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

        string[] known = role == "produce" ? s_producerOptions : s_workerOptions;
        if (named.Keys.FirstOrDefault(name => !known.Contains(name)) is { } unknown)
        {
            throw new ArgumentException($"Unknown option {unknown} for role '{role}'.");
        }

        string store = named.GetValueOrDefault("--store") ?? Sqlite;
        bool postgres = store switch
        {
            Sqlite => false,
            Postgres => true,
            _ => throw new ArgumentException($"--store must be '{Sqlite}' or '{Postgres}'; it was '{store}'."),
        };
        string connectionString = named.GetValueOrDefault("--connection-string") ?? "";
        if (postgres && connectionString.Length == 0)
        {
            throw new ArgumentException("--store postgres needs --connection-string.");
        }

        if (!postgres && (named.ContainsKey("--connection-string") || named.ContainsKey("--schema")))
        {
            throw new ArgumentException("--connection-string and --schema only apply with --store postgres.");
        }

        // A SQLite store is named by its file, the first positional argument; a PostgreSQL store by the options.
        string database = "";
        if (!postgres && positional.Count > 0)
        {
            database = positional[0];
            positional.RemoveAt(0);
        }

        if (postgres && role == "worker" && !named.ContainsKey("--ledger"))
        {
            throw new ArgumentException("A worker with --store postgres needs --ledger (there is no database file to name it after).");
        }

        string schema = named.GetValueOrDefault("--schema") ?? "taskqueue";
        TimeSpan maxRun = TimeSpan.FromSeconds(Int(named, "--max-run-s", 120));
        switch (role)
        {
            case "worker" when positional.Count == 1:
                return new CrashHostArguments
                {
                    Role = role,
                    Store = store,
                    Database = database,
                    ConnectionString = connectionString,
                    Schema = schema,
                    WorkerName = positional[0],
                    Hold = TimeSpan.FromMilliseconds(Int(named, "--hold-ms", 50)),
                    Concurrency = Int(named, "--concurrency", 4),
                    Lease = TimeSpan.FromMilliseconds(Int(named, "--lease-ms", 2000)),
                    Ledger = named.GetValueOrDefault("--ledger") ?? $"{database}.{positional[0]}.ledger",
                    MaxRun = maxRun,
                };
            case "produce" when positional.Count == 2:
                return new CrashHostArguments
                {
                    Role = role,
                    Store = store,
                    Database = database,
                    ConnectionString = connectionString,
                    Schema = schema,
                    Batches = Int(positional[0], "batches"),
                    BatchSize = Int(positional[1], "batchSize"),
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
