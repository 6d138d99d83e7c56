using System.Diagnostics;
using System.Globalization;
using BuildingBlocks.Sagas.CrashHost;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>
/// Two coordinators on one store. A "taker" runs all along; in each cycle a fresh coordinator starts a batch of sagas
/// (it holds their leases), is frozen with SIGSTOP while its steps are in flight, stays frozen until the taker has
/// acquired every saga it held (its leases expired: the tokens went up), and is thawed (SIGCONT). The thawed process
/// still believes it holds those sagas: its in-flight steps finish and try to checkpoint with the old tokens. The store
/// must refuse every one of those writes (the host prints <c>REFUSED saga token</c> for each refusal), and the test
/// itself tries stale checkpoints with the old token (under the frozen owner and under the new owner) which must be
/// refused too. In the end every saga must end as planned with the usual checks (<see cref="SagaOutcomeChecker"/>;
/// lease tokens never go down along a history, so no line of a stale lease got in after the takeover).
/// </summary>
internal sealed class FreezeScenario(CrashTarget target, string ledger, FreezeSettings settings)
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(60);

    private readonly List<string> _log = [];

    /// <summary>Sagas the frozen coordinators held that the taker acquired while they were frozen.</summary>
    public int TakenOver { get; private set; }

    /// <summary>Checkpoints the thawed coordinators tried with a token the taker had replaced, refused by the store.</summary>
    public int StaleWritesRefused { get; private set; }

    /// <summary>LeaseLost (4005) lines the thawed coordinators logged for sagas they held when frozen.</summary>
    public int LeaseLostLogged { get; private set; }

    /// <summary>Cycles where the taker could not take over in time (the frozen process held the store's write lock: SQLite).</summary>
    public int CyclesWithoutTakeover { get; private set; }

    public int Cycles { get; private set; }

    public int SagaCount { get; private set; }

    /// <summary>Sagas a thawed coordinator had a checkpoint refused for but logged no LeaseLost (4005) for ("coordinator: saga").</summary>
    public List<string> MissingLeaseLost { get; } = [];

    /// <summary>Every line the processes printed that says something went wrong (checkpoint or store failures, suspensions).</summary>
    public List<string> Failures { get; } = [];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var random = new Random(settings.Seed);
        Ledger.Create(ledger);
        await using ChildProcess taker = SagaCrashHost.StartRun(target, ledger, "taker", lease: s_lease, maxConcurrent: 64, maxPause: settings.MaxPause);
        string takerId = await SagaCrashHost.WaitReadyAsync(taker, cancellationToken);
        List<ChildProcess> frozen = [];
        try
        {
            while (Cycles < settings.MinCycles || (StaleWritesRefused == 0 && Cycles < settings.MaxCycles))
            {
                ChildProcess victim = SagaCrashHost.StartRun(target, ledger, $"frozen{Cycles + 1}", SagaCount, settings.BatchSize, lease: s_lease, maxConcurrent: settings.BatchSize, maxPause: settings.MaxPause);
                frozen.Add(victim);
                await RunCycleAsync(victim, takerId, random, cancellationToken);
                SagaCount += settings.BatchSize;
                Cycles++;
            }

            // Everyone runs on until no saga is active (the thawed coordinators compete with the taker like any other).
            var drain = Stopwatch.StartNew();
            while (await ActiveAsync(cancellationToken) > 0)
            {
                Assert.True(drain.Elapsed < s_drainTimeout, $"Sagas still active {s_drainTimeout.TotalSeconds} s after the last cycle.{Environment.NewLine}{taker.Describe()}");
                Assert.False(taker.HasExited, $"The taker exited.{Environment.NewLine}{taker.Describe()}");
                await Task.Delay(200, cancellationToken);
            }
        }
        finally
        {
            foreach (ChildProcess victim in frozen)
            {
                if (!victim.HasExited)
                {
                    // SIGKILL also ends a process still stopped (a cycle that failed before its thaw).
                    victim.Kill();
                }

                await victim.WaitForExitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
                await victim.DisposeAsync();
                Collect(victim);
            }

            taker.Kill();
            await taker.WaitForExitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
            Collect(taker);
        }
    }

    public string Summary() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{target.Name}: seed {settings.Seed}, {Cycles} freeze cycles, {SagaCount} sagas, {TakenOver} sagas taken over from frozen coordinators, {StaleWritesRefused} stale checkpoints refused after the thaw, {LeaseLostLogged} LeaseLost logs, {CyclesWithoutTakeover} cycles without a takeover. {string.Join(" ", _log)}");

    private async Task RunCycleAsync(ChildProcess victim, string takerId, Random random, CancellationToken cancellationToken)
    {
        string victimId = await SagaCrashHost.WaitReadyAsync(victim, cancellationToken);
        await victim.WaitForLineAsync(l => l == "STARTS DONE", SagaCrashHost.StartTimeout, cancellationToken);
        await Task.Delay(random.Next(settings.MinFreezeDelay, settings.MaxFreezeDelay + 1), cancellationToken);
        await FreezeOutsideWritesAsync(victim, random, cancellationToken);

        // What it held when it froze: its steps may be mid-call, its leases live for up to 2 s more.
        Dictionary<string, long> held = (await ReadActiveAsync(cancellationToken)).Where(s => s.LeaseOwner == victimId).ToDictionary(s => s.Id, s => s.LeaseToken, StringComparer.Ordinal);
        if (held.Count == 0)
        {
            _log.Add($"[cycle {Cycles + 1}: held nothing when frozen]");
            await Signals.ThawAsync(victim.Id, cancellationToken);
            return;
        }

        // The taker acquires each once its lease expired: the token goes up.
        var wait = Stopwatch.StartNew();
        while (true)
        {
            Dictionary<string, SagaRecord> now = [];
            foreach (string id in held.Keys)
            {
                now[id] = (await target.Store.GetAsync(id, cancellationToken))!;
            }

            if (held.All(h => now[h.Key].LeaseToken > h.Value))
            {
                break;
            }

            if (wait.Elapsed > s_lease + settings.TakeoverGrace)
            {
                _log.Add($"[cycle {Cycles + 1}: no takeover of {held.Count(h => now[h.Key].LeaseToken == h.Value)} of {held.Count} sagas within {wait.Elapsed.TotalSeconds:F1} s]");
                CyclesWithoutTakeover++;
                await Signals.ThawAsync(victim.Id, cancellationToken);
                return;
            }

            await Task.Delay(100, cancellationToken);
        }

        TakenOver += held.Count;

        // The store refuses the old token, whoever presents it: the frozen owner, and the new owner with the old token.
        foreach ((string sagaId, long token) in held)
        {
            foreach (string owner in (string[])[victimId, takerId])
            {
                bool written = await target.Store.CheckpointAsync(StaleCheckpoint(sagaId, owner, token), cancellationToken);
                Assert.False(written, $"The store accepted a checkpoint of {sagaId} by {owner} with token {token} after the taker acquired it.");
            }
        }

        // Let the taker write under its new tokens, then thaw: the frozen process's in-flight steps finish and try to
        // checkpoint with the old tokens.
        await Task.Delay(300, cancellationToken);
        await Signals.ThawAsync(victim.Id, cancellationToken);
        bool IsStale(string line, string prefix)
        {
            // "REFUSED <saga> <token> <kinds>", "LEASE LOST <saga> <token>": the saga and token follow the prefix.
            int at = prefix.Count(c => c == ' ');
            string[] parts = line.Split(' ');
            return line.StartsWith(prefix, StringComparison.Ordinal) && parts.Length > at + 1
                && held.TryGetValue(parts[at], out long token) && parts[at + 1] == token.ToString(CultureInfo.InvariantCulture);
        }

        try
        {
            await victim.WaitForOutputAsync(lines => lines.Any(l => IsStale(l, "REFUSED ")), settings.ThawWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // None of its in-flight steps reached a checkpoint before its lease renewal found the leases lost and
            // canceled them: nothing stale was attempted this cycle.
        }

        // Each refused checkpoint makes the coordinator stop running that saga and log LeaseLost (4005) for it.
        HashSet<string> SagasOf(IReadOnlyList<string> lines, string prefix) =>
            [.. lines.Where(l => IsStale(l, prefix)).Select(l => l.Split(' ')[prefix.Count(c => c == ' ')])];
        try
        {
            await victim.WaitForOutputAsync(lines => SagasOf(lines, "LEASE LOST ").IsSupersetOf(SagasOf(lines, "REFUSED ")), settings.ThawWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            MissingLeaseLost.AddRange(SagasOf(victim.Lines, "REFUSED ").Except(SagasOf(victim.Lines, "LEASE LOST ")).Select(id => $"{victimId}: {id}"));
        }

        int refused = victim.Lines.Count(l => IsStale(l, "REFUSED "));
        int lost = victim.Lines.Count(l => IsStale(l, "LEASE LOST "));
        StaleWritesRefused += refused;
        LeaseLostLogged += lost;
        _log.Add($"[cycle {Cycles + 1}: held {held.Count}, taken over after {wait.Elapsed.TotalSeconds:F1} s, {refused} stale checkpoints refused, {lost} LeaseLost]");
    }

    /// <summary>
    /// Freezes the victim at a moment it holds no SQLite write lock (on the ledger, and on the store file when the store
    /// is SQLite): a process frozen inside a write transaction blocks every other writer of the file until it is thawed,
    /// so nobody could take over. Thaws it again for a moment and retries while it does.
    /// </summary>
    private async Task FreezeOutsideWritesAsync(ChildProcess victim, Random random, CancellationToken cancellationToken)
    {
        string[] files = [ledger, .. target.SqliteFiles];
        for (int attempt = 1; ; attempt++)
        {
            await Signals.FreezeAsync(victim.Id, cancellationToken);
            string? locked = files.FirstOrDefault(SqliteWriteLock.IsHeld);
            if (locked is null)
            {
                return;
            }

            Assert.True(attempt < 10, $"The victim held the write lock of {locked} at {attempt} freezes in a row.{Environment.NewLine}{victim.Describe()}");
            _log.Add($"[cycle {Cycles + 1}: frozen inside a write transaction on {Path.GetFileName(locked)}, thawed and frozen again]");
            await Signals.ThawAsync(victim.Id, cancellationToken);
            await Task.Delay(random.Next(20, 80), cancellationToken);
        }
    }

    private static SagaCheckpoint StaleCheckpoint(string sagaId, string owner, long token)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return new SagaCheckpoint
        {
            SagaId = sagaId,
            LeaseOwner = owner,
            LeaseToken = token,
            Status = SagaStatus.Running,
            Data = "{}",
            Progress = "{}",
            UpdatedAt = now,
            Events = [new SagaEvent { Sequence = 10_000, Kind = SagaEventKind.StepCompleted, Step = "stale", Attempt = 1, At = now, LeaseToken = token }],
        };
    }

    private async Task<long> ActiveAsync(CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<SagaStatus, long> counts = await target.Store.CountByStatusAsync(cancellationToken);
        return counts.GetValueOrDefault(SagaStatus.Running) + counts.GetValueOrDefault(SagaStatus.Compensating);
    }

    private async Task<IReadOnlyList<SagaRecord>> ReadActiveAsync(CancellationToken cancellationToken) =>
        await target.Store.QueryAsync(new SagaQuery { Statuses = [SagaStatus.Running, SagaStatus.Compensating], Limit = 1000 }, cancellationToken);

    private void Collect(ChildProcess process) =>
        Failures.AddRange(process.Lines
            .Where(l => l.StartsWith("CHECKPOINT FAILED", StringComparison.Ordinal) || l.StartsWith("SUSPENDED", StringComparison.Ordinal) || l.StartsWith("STORE CALL FAILED", StringComparison.Ordinal))
            .Select(l => $"{process.Name.Split(' ').SkipWhile(a => a != "--coordinator").Skip(1).FirstOrDefault()}: {l}"));
}

/// <summary>The knobs of a <see cref="FreezeScenario"/>.</summary>
internal sealed record FreezeSettings
{
    public required int Seed { get; init; }

    /// <summary>Freeze cycles at least.</summary>
    public int MinCycles { get; init; } = 2;

    /// <summary>Freeze cycles at most, while no stale checkpoint was seen refused (3 more than <see cref="MinCycles"/>).</summary>
    public int MaxCycles => MinCycles + 3;

    /// <summary>Sagas each frozen coordinator starts (and holds).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>The steps' longest pause before and after their ledger call (long: many steps are mid-call at the freeze).</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromMilliseconds(80);

    /// <summary>The freeze comes this long after the coordinator started its sagas, at least.</summary>
    public int MinFreezeDelay { get; init; } = 150;

    /// <summary>The freeze comes this long after the coordinator started its sagas, at most.</summary>
    public int MaxFreezeDelay { get; init; } = 400;

    /// <summary>How long past the lease the taker may take to acquire the frozen coordinator's sagas.</summary>
    public TimeSpan TakeoverGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long after the thaw to wait for the thawed coordinator's first refused checkpoint.</summary>
    public TimeSpan ThawWait { get; init; } = TimeSpan.FromSeconds(3);
}
