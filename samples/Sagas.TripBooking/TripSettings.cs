namespace Sagas.TripBooking;

/// <summary>What the sample runs.</summary>
internal enum TripMode
{
    /// <summary>Two trips: one completes, one is compensated; the path of the second as a Mermaid diagram.</summary>
    Demo,

    /// <summary>Starts a trip on the SQLite file and kills the process mid-saga.</summary>
    Crash,

    /// <summary>Opens the file again and lets the coordinator finish what the killed run left.</summary>
    Resume,
}

/// <summary>The command line: mode, data folder, and whether the email goes through the task queue.</summary>
internal sealed record TripSettings
{
    public const string Usage = """
        Usage: dotnet run --project samples/Sagas.TripBooking [-- options]
          (no options)            book two trips: one completes, one is compensated (fresh temp folder)
          --crash-after <step>    start a trip and kill this process right after <step>'s booking (flight, hotel, car, email)
          --resume                open the files again and finish the killed run's trip
          --data <folder>         where --crash-after and --resume keep their files (default: <temp>/trip-booking)
          --via-task-queue        the email step enqueues the email on a BuildingBlocks.TaskQueue queue instead of sending it
        """;

    public static readonly string[] Steps = ["flight", "hotel", "car", "email"];

    public TripMode Mode { get; init; }

    public string? CrashAfter { get; init; }

    public string DataDirectory { get; init; } = DefaultDataDirectory;

    public bool ViaTaskQueue { get; init; }

    /// <summary>The most a run may take before the sample gives up.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public static string DefaultDataDirectory => Path.Combine(Path.GetTempPath(), "trip-booking");

    public static TripSettings Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var settings = new TripSettings();
        for (int i = 0; i < args.Count; i++)
        {
            settings = args[i] switch
            {
                "--crash-after" when i + 1 < args.Count && Steps.Contains(args[i + 1]) => settings with { Mode = TripMode.Crash, CrashAfter = args[++i] },
                "--crash-after" => throw new ArgumentException($"--crash-after takes a step: {string.Join(", ", Steps)}.{Environment.NewLine}{Usage}"),
                "--resume" => settings with { Mode = TripMode.Resume },
                "--data" when i + 1 < args.Count => settings with { DataDirectory = Path.GetFullPath(args[++i]) },
                "--via-task-queue" => settings with { ViaTaskQueue = true },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'.{Environment.NewLine}{Usage}"),
            };
        }

        return settings;
    }
}
