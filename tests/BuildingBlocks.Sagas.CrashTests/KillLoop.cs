using System.Diagnostics;
using System.Globalization;
using BuildingBlocks.Sagas.CrashHost;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>
/// Runs crash-host coordinators on one store, two at a time, cycle after cycle, and kills each with SIGKILL at a random
/// moment of its own: while it starts sagas, mid-step, between steps, mid-compensation, during a checkpoint, while the
/// other still runs (and acquires what the killed one held once its leases expire). The first run of a cycle starts a
/// batch of new sagas (and again the ones its killed predecessor may not have started: starting an existing id starts
/// nothing), so every cycle has work at once while the killed runs' sagas wait for their leases to expire. After the
/// adding window a few more cycles drain, then one clean run finishes everything (exit code 0 once no saga is active).
/// </summary>
internal sealed class KillLoop(CrashTarget target, string ledger, KillLoopSettings settings)
{
    private readonly List<string> _notes = [];

    /// <summary>How many runs were killed.</summary>
    public int Kills { get; private set; }

    /// <summary>How many times a set of runs was started and killed.</summary>
    public int Cycles { get; private set; }

    /// <summary>How many sagas were started (indexes 0..SagaCount-1).</summary>
    public int SagaCount { get; private set; }

    /// <summary>The killed runs' lifetimes after READY, in milliseconds.</summary>
    public List<int> KillDelays { get; } = [];

    /// <summary>Protocol lines of note from every run (lease lost, refused, checkpoint failed, suspended, store call failed).</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>How long the final clean run took to finish every saga.</summary>
    public TimeSpan FinalRun { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var random = new Random(settings.Seed);
        var clock = Stopwatch.StartNew();
        int wanted = 0;
        int started = 0;
        TimeSpan addingEnded = TimeSpan.MaxValue;
        while (clock.Elapsed < settings.HardLimit)
        {
            long active = await ActiveAsync(cancellationToken);
            bool adding = (clock.Elapsed < settings.AddWindow || Kills < settings.MinKills) && addingEnded == TimeSpan.MaxValue;
            if (!adding && addingEnded == TimeSpan.MaxValue)
            {
                addingEnded = clock.Elapsed;
            }

            if (!adding && clock.Elapsed - addingEnded >= settings.DrainWindow)
            {
                break;
            }

            if (adding && active < settings.MaxActive)
            {
                wanted = started + settings.BatchSize;
            }
            else if (!adding && active == 0 && started == wanted)
            {
                break;
            }

            // Several coordinators at once (the first starts the batch), each killed at its own random moment.
            Cycles++;
            List<ChildProcess> runs = [];
            try
            {
                for (int i = 0; i < settings.Coordinators; i++)
                {
                    runs.Add(SagaCrashHost.StartRun(target, ledger, $"run{Cycles}.{i + 1}", started, i == 0 ? wanted - started : 0, maxPause: settings.MaxPause));
                }

                foreach (ChildProcess run in runs)
                {
                    await SagaCrashHost.WaitReadyAsync(run, cancellationToken);
                }

                var lived = Stopwatch.StartNew();
                List<(int Delay, ChildProcess Run)> schedule = [.. runs.Select(r => (random.Next(settings.MinLife, settings.MaxLife + 1), r)).OrderBy(k => k.Item1)];
                foreach ((int delay, ChildProcess run) in schedule)
                {
                    TimeSpan wait = TimeSpan.FromMilliseconds(delay) - lived.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, cancellationToken);
                    }

                    Assert.False(run.HasExited, $"A run exited before it was killed.{Environment.NewLine}{run.Describe()}");
                    run.Kill();
                    Kills++;
                    KillDelays.Add(delay);
                }

                foreach (ChildProcess run in runs)
                {
                    await run.WaitForExitAsync(TimeSpan.FromSeconds(15), cancellationToken);
                    Collect(run);
                }

                int before = started;
                started = StartedUpTo(runs[0], started, wanted);
                TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cycle {Cycles}: active {active}, started {before}->{started} of {wanted}, killed after {string.Join("/", schedule.Select(k => k.Item1))} ms, t={clock.Elapsed.TotalSeconds:F1} s"));
            }
            finally
            {
                foreach (ChildProcess run in runs)
                {
                    await run.DisposeAsync();
                }
            }
        }

        SagaCount = wanted;
        var final = Stopwatch.StartNew();
        await using ChildProcess clean = SagaCrashHost.StartRun(target, ledger, "final", started, wanted - started, exitWhenDone: true, maxPause: settings.MaxPause);
        int exitCode = await clean.WaitForExitAsync(settings.FinalRunTimeout, cancellationToken);
        FinalRun = final.Elapsed;
        Collect(clean);
        Assert.True(exitCode == 0 && clean.Lines.Any(l => l.StartsWith("DONE", StringComparison.Ordinal)), $"The final run did not finish every saga (exit code {exitCode}).{Environment.NewLine}{clean.Describe()}");
    }

    public string Summary() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{target.Name}: seed {settings.Seed}, {SagaCount} sagas, {Kills} runs killed in {Cycles} cycles of {settings.Coordinators} coordinators (lived {(KillDelays.Count == 0 ? 0 : KillDelays.Min())}-{(KillDelays.Count == 0 ? 0 : KillDelays.Max())} ms after READY), final clean run {FinalRun.TotalSeconds:F1} s; protocol lines: {(_notes.Count == 0 ? "none" : string.Join(", ", _notes.GroupBy(Kind).Select(g => $"{g.Key} x{g.Count()}")))}");

    private static readonly string[] s_noteKinds = ["LEASE LOST", "REFUSED", "CHECKPOINT FAILED", "SUSPENDED", "STORE CALL FAILED"];

    private static string Kind(string line) => s_noteKinds.First(k => line.StartsWith(k, StringComparison.Ordinal));

    /// <summary>The next index to start: the killed run started every saga before its last STARTED line (it starts them in order).</summary>
    private static int StartedUpTo(ChildProcess run, int from, int to)
    {
        if (run.Lines.Contains("STARTS DONE"))
        {
            return to;
        }

        int next = from;
        foreach (string line in SagaCrashHost.LinesStartingWith(run, "STARTED "))
        {
            next = Math.Max(next, int.Parse(line.AsSpan("STARTED ".Length), NumberStyles.None, CultureInfo.InvariantCulture) + 1);
        }

        return next;
    }

    private async Task<long> ActiveAsync(CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<SagaStatus, long> counts = await target.Store.CountByStatusAsync(cancellationToken);
        return counts.GetValueOrDefault(SagaStatus.Running) + counts.GetValueOrDefault(SagaStatus.Compensating);
    }

    private void Collect(ChildProcess run) =>
        _notes.AddRange(run.Lines.Where(l => s_noteKinds.Any(k => l.StartsWith(k, StringComparison.Ordinal))));
}

/// <summary>The knobs of a <see cref="KillLoop"/>.</summary>
internal sealed record KillLoopSettings
{
    /// <summary>Seeds the kill moments (SAGAS_CRASH_SEED repeats a run's schedule; the steps' own pauses stay random).</summary>
    public required int Seed { get; init; }

    /// <summary>How long killed runs keep starting new sagas.</summary>
    public required TimeSpan AddWindow { get; init; }

    /// <summary>Runs are killed at least this often (the adding window grows on a slow machine), up to <see cref="HardLimit"/>.</summary>
    public int MinKills { get; init; } = KillLoopAssertions.MinKills;

    /// <summary>The killed runs stop after this long whatever else (40 s past the adding window).</summary>
    public TimeSpan HardLimit => AddWindow + TimeSpan.FromSeconds(40);

    /// <summary>How long killed runs go on after the adding window while sagas are still active.</summary>
    public TimeSpan DrainWindow { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Coordinator processes per cycle, on the same store at once (the first one starts the cycle's sagas).</summary>
    public int Coordinators { get; init; } = 2;

    /// <summary>New sagas per cycle.</summary>
    public int BatchSize { get; init; } = 20;

    /// <summary>No new sagas while this many are active (the backlog stays small enough to finish).</summary>
    public int MaxActive { get; init; } = 48;

    /// <summary>A run lives this long after READY at least.</summary>
    public int MinLife { get; init; } = 100;

    /// <summary>A run lives this long after READY at most (its predecessor's leases expire 1 s after its last renewal).</summary>
    public int MaxLife { get; init; } = 1200;

    /// <summary>The steps' longest pause before and after their ledger call.</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan FinalRunTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
