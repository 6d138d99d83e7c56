using System.Globalization;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>The command line of one crash-host process.</summary>
internal sealed class CrashHostArguments
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public const string Usage = """
        usage:
          run --ledger <path> --coordinator <name> (--db <file> | --store postgres --connection-string <cs> [--schema <name>])
              [--start-from N --start-count N] [--exit-when-done] [--lease-ms N] [--max-concurrent N] [--pause-ms N] [--max-run-s N]
        Runs a saga coordinator (id <name>/<pid>) for the crash saga on the SQLite file (--db) or the PostgreSQL schema
        (default 'sagas'), first starting the sagas with indexes [start-from, start-from + start-count) (a saga that exists
        is not started again). With --exit-when-done it exits 0 once no saga is Running or Compensating.
        Defaults: --lease-ms 1000 (renewed every third), --max-concurrent 16, --pause-ms 30 (each step pauses 1..N ms
        before and after its ledger call), --max-run-s 120 (then it stops on its own).
        """;

    private static readonly string[] s_options =
        ["--ledger", "--coordinator", "--db", "--store", "--connection-string", "--schema", "--start-from", "--start-count", "--lease-ms", "--max-concurrent", "--pause-ms", "--max-run-s"];

    private static readonly string[] s_flags = ["--exit-when-done"];

    /// <summary><see cref="Sqlite"/> or <see cref="Postgres"/>.</summary>
    public string Store { get; init; } = Sqlite;

    /// <summary>sqlite: the database file.</summary>
    public string Database { get; init; } = "";

    /// <summary>postgres: the Npgsql connection string.</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>postgres: the schema.</summary>
    public string Schema { get; init; } = "sagas";

    public required string Ledger { get; init; }

    /// <summary>The readable part of the coordinator id (the id is &lt;name&gt;/&lt;pid&gt;).</summary>
    public required string Coordinator { get; init; }

    public int StartFrom { get; init; }

    public int StartCount { get; init; }

    public bool ExitWhenDone { get; init; }

    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(1);

    public int MaxConcurrent { get; init; } = 16;

    public TimeSpan MaxPause { get; init; } = TimeSpan.FromMilliseconds(30);

    public TimeSpan MaxRun { get; init; } = TimeSpan.FromMinutes(2);

    public static CrashHostArguments Parse(string[] args)
    {
        if (args.Length == 0 || args[0] != "run")
        {
            throw new ArgumentException($"Unknown role '{(args.Length == 0 ? "" : args[0])}'.");
        }

        Dictionary<string, string> named = new(StringComparer.Ordinal);
        HashSet<string> flags = new(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i++)
        {
            if (s_flags.Contains(args[i]))
            {
                flags.Add(args[i]);
            }
            else if (s_options.Contains(args[i]))
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"Option {args[i]} needs a value.");
                }

                named[args[i]] = args[++i];
            }
            else
            {
                throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        string store = named.GetValueOrDefault("--store") ?? Sqlite;
        if (store is not (Sqlite or Postgres))
        {
            throw new ArgumentException($"--store must be '{Sqlite}' or '{Postgres}'; it was '{store}'.");
        }

        string database = named.GetValueOrDefault("--db") ?? "";
        string connectionString = named.GetValueOrDefault("--connection-string") ?? "";
        if (store == Sqlite && database.Length == 0)
        {
            throw new ArgumentException("--store sqlite needs --db <file>.");
        }

        if (store == Postgres && connectionString.Length == 0)
        {
            throw new ArgumentException("--store postgres needs --connection-string.");
        }

        int lease = Int(named, "--lease-ms", 1000);
        if (lease < 30)
        {
            throw new ArgumentException($"--lease-ms must be at least 30; it was {lease}.");
        }

        return new CrashHostArguments
        {
            Store = store,
            Database = database,
            ConnectionString = connectionString,
            Schema = named.GetValueOrDefault("--schema") ?? "sagas",
            Ledger = named.GetValueOrDefault("--ledger") ?? throw new ArgumentException("run needs --ledger <path>."),
            Coordinator = named.GetValueOrDefault("--coordinator") ?? throw new ArgumentException("run needs --coordinator <name>."),
            StartFrom = Int(named, "--start-from", 0),
            StartCount = Int(named, "--start-count", 0),
            ExitWhenDone = flags.Contains("--exit-when-done"),
            Lease = TimeSpan.FromMilliseconds(lease),
            MaxConcurrent = Math.Max(1, Int(named, "--max-concurrent", 16)),
            MaxPause = TimeSpan.FromMilliseconds(Int(named, "--pause-ms", 30)),
            MaxRun = TimeSpan.FromSeconds(Int(named, "--max-run-s", 120)),
        };
    }

    private static int Int(Dictionary<string, string> named, string name, int fallback) =>
        !named.TryGetValue(name, out string? value) ? fallback
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 ? n
        : throw new ArgumentException($"{name} must be a non-negative integer; it was '{value}'.");
}
