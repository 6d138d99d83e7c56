using System.Globalization;
using System.Text;
using System.Text.Json;
using BuildingBlocks.Sagas.CrashHost;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>
/// Checks what the crash sagas left in the store and in the ledger against their plans (<see cref="CrashPlan"/>), saga
/// by saga, and collects every problem instead of stopping at the first. The rules:
/// <list type="bullet">
/// <item>Every saga ended as its plan says (Completed, Compensated or CompensationFailed), with its lease released;
/// never Running, Compensating or Suspended.</item>
/// <item>Its history is numbered 1..n, starts once, ends with the one terminal line, and its lease tokens never go down
/// (no line from a stale lease after a newer lease wrote).</item>
/// <item>The steps recorded as completed are exactly the ones the plan reaches, each once; the failing step failed once;
/// attempt numbers carried across restarts (charge failed on attempts 1 and 2, completed on 3; reserve's and confirm's
/// compensations completed on attempts 2 and 3).</item>
/// <item>The ledger has exactly one forward effect per recorded step (and for charge when it failed after its effect), none
/// for other steps, each under the documented idempotency key; the saga's data holds each effect's answer.</item>
/// <item>Compensation effects (ledger order) and CompensationCompleted lines (history order) are both the reverse of the
/// completion order (history sequence): all compensable steps for a compensated saga, the ones before the parked step
/// for a parked one, none for a completed one; each undoes its own step's forward effect and comes after every forward
/// effect of its saga.</item>
/// <item>Every ledger call's key took effect exactly once (the repeats are counted: a service without the key would have
/// applied each of them again).</item>
/// </list>
/// </summary>
internal sealed class SagaOutcomeChecker
{
    private const int PageSize = 500;

    private readonly List<string> _problems = [];

    private SagaOutcomeChecker()
    {
    }

    public IReadOnlyList<string> Problems => _problems;

    public Dictionary<SagaStatus, int> Statuses { get; } = [];

    public int Calls { get; private set; }

    public int Effects { get; private set; }

    /// <summary>Calls that did not take effect because their idempotency key had: the duplicates the keys absorbed.</summary>
    public int RepeatedCalls { get; private set; }

    /// <summary>The largest number of calls one key received.</summary>
    public int MostCallsForOneKey { get; private set; }

    public int CompensationLines { get; private set; }

    public static async Task<SagaOutcomeChecker> CheckAsync(ISagaStore store, string ledgerPath, int sagaCount, CancellationToken cancellationToken)
    {
        var checker = new SagaOutcomeChecker();
        Dictionary<string, SagaRecord> sagas = await ReadAllAsync(store, cancellationToken);
        ILookup<string, LedgerEffect> effects = Ledger.ReadEffects(ledgerPath).ToLookup(e => e.Saga, StringComparer.Ordinal);
        IReadOnlyList<LedgerCall> calls = Ledger.ReadCalls(ledgerPath);
        checker.CheckCalls(calls, effects);

        foreach (string id in sagas.Keys.Where(id => !id.StartsWith("crash-", StringComparison.Ordinal) || CrashPlan.Index(id) >= sagaCount))
        {
            checker._problems.Add($"{id}: a saga the test never asked for is in the store.");
        }

        for (int index = 0; index < sagaCount; index++)
        {
            string id = CrashPlan.SagaId(index);
            if (!sagas.TryGetValue(id, out SagaRecord? saga))
            {
                checker._problems.Add($"{id}: started (STARTED line) but not in the store.");
                continue;
            }

            IReadOnlyList<SagaEvent> history = await store.GetEventsAsync(id, cancellationToken);
            checker.CheckSaga(index, saga, history, [.. effects[id]]);
        }

        return checker;
    }

    /// <summary>A one-line summary for the test output.</summary>
    public string Summary() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}"))}; ledger: {Calls} calls, {Effects} effects, {RepeatedCalls} repeated calls absorbed by their keys (at most {MostCallsForOneKey} calls for one key); {CompensationLines} compensations");

    /// <summary>The problems as one message (the first <paramref name="max"/>), for an assertion.</summary>
    public string Describe(int max = 40)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{_problems.Count} problem(s); {Summary()}").AppendLine();
        foreach (string problem in _problems.Take(max))
        {
            text.AppendLine(problem);
        }

        return text.ToString();
    }

    private static async Task<Dictionary<string, SagaRecord>> ReadAllAsync(ISagaStore store, CancellationToken cancellationToken)
    {
        Dictionary<string, SagaRecord> sagas = new(StringComparer.Ordinal);
        string? after = null;
        while (true)
        {
            IReadOnlyList<SagaRecord> page = await store.QueryAsync(new SagaQuery { AfterId = after, Limit = PageSize }, cancellationToken);
            foreach (SagaRecord saga in page)
            {
                sagas.Add(saga.Id, saga);
            }

            if (page.Count < PageSize)
            {
                return sagas;
            }

            after = page[^1].Id;
        }
    }

    private static string Key(string sagaId, string step, string direction) => $"{sagaId}/{step}/{direction}";

    private static string PlanText(CrashSagaData plan) =>
        plan.FailAt is null ? "completes"
        : $"fails at {plan.FailAt}{(plan.FailAfterEffect ? " after its effect" : "")}{(plan.ParkAt is null ? "" : $", {plan.ParkAt}'s compensation always fails")}";

    private static string HistoryText(IReadOnlyList<SagaEvent> history) =>
        string.Join(" | ", history.Select(e => $"{e.Sequence}:{e.Kind}{(e.Step is null ? "" : " " + e.Step)}{(e.Attempt == 0 ? "" : " #" + e.Attempt.ToString(CultureInfo.InvariantCulture))} t{e.LeaseToken}"));

    private void CheckCalls(IReadOnlyList<LedgerCall> calls, ILookup<string, LedgerEffect> effects)
    {
        Calls = calls.Count;
        Effects = effects.Sum(g => g.Count());
        HashSet<string> effectKeys = [.. effects.SelectMany(g => g).Select(e => e.Key)];
        foreach (IGrouping<string, LedgerCall> key in calls.GroupBy(c => c.Key, StringComparer.Ordinal))
        {
            int applied = key.Count(c => c.Applied);
            if (applied != 1 || !effectKeys.Contains(key.Key))
            {
                _problems.Add($"ledger: key {key.Key} took effect {applied} time(s) over {key.Count()} call(s) (effect row: {effectKeys.Contains(key.Key)}).");
            }

            if (key.First() is { Applied: false } first)
            {
                _problems.Add($"ledger: the first call for key {key.Key} (call {first.Seq}) did not take effect.");
            }

            RepeatedCalls += key.Count() - applied;
            MostCallsForOneKey = Math.Max(MostCallsForOneKey, key.Count());
        }
    }

    private void CheckSaga(int index, SagaRecord saga, IReadOnlyList<SagaEvent> history, List<LedgerEffect> effects)
    {
        CrashSagaData plan = CrashPlan.For(index);
        int before = _problems.Count;
        void Problem(string text) => _problems.Add($"{saga.Id} ({PlanText(plan)}; {saga.Status}, token {saga.LeaseToken}): {text}");

        Statuses[saga.Status] = Statuses.GetValueOrDefault(saga.Status) + 1;
        SagaStatus expected = CrashPlan.ExpectedStatus(index);
        if (saga.Status != expected)
        {
            Problem(saga.Status is SagaStatus.Running or SagaStatus.Compensating
                ? $"STUCK: still {saga.Status} after the final run (lease owner {saga.LeaseOwner ?? "-"}); expected {expected}."
                : $"ended {saga.Status}, expected {expected} (error: {saga.Error ?? "-"}).");
        }

        if (saga.LeaseOwner is not null)
        {
            Problem($"ended but its lease is still held by {saga.LeaseOwner}.");
        }

        CrashSagaData? data = null;
        try
        {
            data = JsonSerializer.Deserialize<CrashSagaData>(saga.Data, JsonSerializerOptions.Web);
        }
        catch (JsonException e)
        {
            Problem($"its data does not read back: {e.Message}");
        }

        if (data is not null && (data.Index != index || data.FailAt != plan.FailAt || data.FailAfterEffect != plan.FailAfterEffect || data.ParkAt != plan.ParkAt))
        {
            Problem($"its data does not hold its plan: {saga.Data}");
        }

        CheckHistoryShape(saga, history, Problem);
        Dictionary<string, SagaEvent> completed = Single(history, SagaEventKind.StepCompleted, Problem);
        Dictionary<string, SagaEvent> failed = Single(history, SagaEventKind.StepFailed, Problem);

        // The steps the plan reaches: every step of the stages before the failing one, and the failing step's group siblings
        // (they finish their attempt, or get one after a restart, and never fail).
        int failStage = plan.FailAt is null ? CrashPlan.Stages.Count : CrashPlan.StageOf(plan.FailAt);
        HashSet<string> mustComplete = [.. CrashPlan.Steps.Where(s => CrashPlan.StageOf(s) < failStage || (CrashPlan.StageOf(s) == failStage && s != plan.FailAt))];
        if (!completed.Keys.ToHashSet().SetEquals(mustComplete))
        {
            Problem($"completed steps [{string.Join(",", completed.Keys.Order(StringComparer.Ordinal))}], expected [{string.Join(",", mustComplete.Order(StringComparer.Ordinal))}]. History: {HistoryText(history)}");
        }

        HashSet<string> mustFail = plan.FailAt is null ? [] : [plan.FailAt];
        if (!failed.Keys.ToHashSet().SetEquals(mustFail))
        {
            Problem($"failed steps [{string.Join(",", failed.Keys)}], expected [{string.Join(",", mustFail)}]. History: {HistoryText(history)}");
        }

        CheckAttempts(plan, history, completed, failed, Problem);

        // Forward effects: one per step that completed (plus charge when it failed after its effect), under its key.
        List<LedgerEffect> forward = [.. effects.Where(e => e.Direction == Ledger.Forward)];
        List<LedgerEffect> backward = [.. effects.Where(e => e.Direction == Ledger.Compensation)];
        foreach (LedgerEffect effect in effects.Where(e => e.Key != Key(saga.Id, e.Step, e.Direction) || e.Direction is not (Ledger.Forward or Ledger.Compensation)))
        {
            Problem($"ledger effect {effect.Seq} has key '{effect.Key}', not the documented '{Key(saga.Id, effect.Step, effect.Direction)}'.");
        }

        HashSet<string> mustHaveEffect = [.. mustComplete, .. plan.FailAfterEffect ? [plan.FailAt!] : Array.Empty<string>()];
        List<string> forwardSteps = [.. forward.Select(e => e.Step)];
        if (forwardSteps.Count != forwardSteps.Distinct().Count() || !forwardSteps.ToHashSet().SetEquals(mustHaveEffect))
        {
            Problem($"forward effects [{string.Join(",", forward.Select(e => $"{e.Step}@{e.Seq}"))}], expected one each for [{string.Join(",", mustHaveEffect.Order(StringComparer.Ordinal))}].");
        }

        if (data is not null)
        {
            Dictionary<string, long> effectSeqs = forward.GroupBy(e => e.Step).ToDictionary(g => g.Key, g => g.First().Seq);
            bool same = data.Receipts.Count == effectSeqs.Count && effectSeqs.All(e => data.Receipts.TryGetValue(e.Key, out long seq) && seq == e.Value);
            if (!same)
            {
                Problem($"the data's receipts [{string.Join(",", data.Receipts.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}@{r.Value}"))}] are not the forward effects [{string.Join(",", effectSeqs.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}@{r.Value}"))}].");
            }
        }

        // Compensation: the reverse of completion order (history sequence of StepCompleted, or StepFailed for charge when
        // its failure is compensated); for a parked saga up to the step whose compensation always fails.
        List<string> undoOrder = [.. completed.Values
            .Concat(failed.Values.Where(f => f.Step == CrashPlan.Charge))
            .Where(e => CrashPlan.Compensable.Contains(e.Step!))
            .OrderByDescending(e => e.Sequence)
            .Select(e => e.Step!)];
        List<string> mustUndo = expected switch
        {
            SagaStatus.Completed => [],
            SagaStatus.Compensated => undoOrder,
            _ => [.. undoOrder.TakeWhile(s => s != plan.ParkAt)],
        };
        if (expected == SagaStatus.CompensationFailed && !undoOrder.Contains(plan.ParkAt!))
        {
            Problem($"the plan parks at {plan.ParkAt}, which never completed: the plan is wrong.");
        }

        List<string> compensatedLines = [.. history.Where(e => e.Kind == SagaEventKind.CompensationCompleted).Select(e => e.Step!)];
        CompensationLines += compensatedLines.Count;
        if (!compensatedLines.SequenceEqual(mustUndo))
        {
            Problem($"CompensationCompleted lines [{string.Join(",", compensatedLines)}], expected [{string.Join(",", mustUndo)}] (reverse completion order). History: {HistoryText(history)}");
        }

        List<string> backwardSteps = [.. backward.Select(e => e.Step)];
        if (!backwardSteps.SequenceEqual(mustUndo))
        {
            Problem($"compensation effects in ledger order [{string.Join(",", backward.Select(e => $"{e.Step}@{e.Seq}"))}], expected [{string.Join(",", mustUndo)}] (reverse completion order). History: {HistoryText(history)}");
        }

        long lastForward = forward.Count == 0 ? 0 : forward.Max(e => e.Seq);
        foreach (LedgerEffect undo in backward)
        {
            LedgerEffect? done = forward.FirstOrDefault(e => e.Step == undo.Step);
            if (done is null || undo.Undoes != done.Seq)
            {
                Problem($"the compensation of {undo.Step} (effect {undo.Seq}) undoes {undo.Undoes?.ToString(CultureInfo.InvariantCulture) ?? "nothing"}, not its forward effect {done?.Seq.ToString(CultureInfo.InvariantCulture) ?? "(none)"}.");
            }

            if (undo.Seq < lastForward)
            {
                Problem($"the compensation of {undo.Step} (effect {undo.Seq}) took effect before a forward effect of the saga (effect {lastForward}).");
            }
        }

        if (_problems.Count > before + 1 && !_problems[^1].Contains("History:", StringComparison.Ordinal))
        {
            Problem($"History: {HistoryText(history)}");
        }
    }

    private static Dictionary<string, SagaEvent> Single(IReadOnlyList<SagaEvent> history, SagaEventKind kind, Action<string> problem)
    {
        Dictionary<string, SagaEvent> found = new(StringComparer.Ordinal);
        foreach (SagaEvent line in history.Where(e => e.Kind == kind))
        {
            if (line.Step is null || !found.TryAdd(line.Step, line))
            {
                problem($"{kind} recorded twice for step {line.Step ?? "(none)"} (line {line.Sequence}). History: {HistoryText(history)}");
            }
        }

        return found;
    }

    private static void CheckHistoryShape(SagaRecord saga, IReadOnlyList<SagaEvent> history, Action<string> problem)
    {
        if (history.Count == 0)
        {
            problem("no history.");
            return;
        }

        for (int i = 0; i < history.Count; i++)
        {
            if (history[i].Sequence != i + 1)
            {
                problem($"history line {i + 1} has sequence {history[i].Sequence}. History: {HistoryText(history)}");
                break;
            }
        }

        if (history[0].Kind != SagaEventKind.Started || history.Count(e => e.Kind == SagaEventKind.Started) != 1)
        {
            problem($"the history does not start exactly once. History: {HistoryText(history)}");
        }

        for (int i = 1; i < history.Count; i++)
        {
            if (history[i].LeaseToken < history[i - 1].LeaseToken)
            {
                problem($"line {history[i].Sequence} was written with lease token {history[i].LeaseToken} after line {history[i - 1].Sequence} with token {history[i - 1].LeaseToken}: a stale lease's write was accepted. History: {HistoryText(history)}");
            }
        }

        if (history[^1].LeaseToken > saga.LeaseToken)
        {
            problem($"a line carries token {history[^1].LeaseToken}, above the saga's token {saga.LeaseToken}.");
        }

        SagaEventKind? terminal = saga.Status switch
        {
            SagaStatus.Completed => SagaEventKind.Completed,
            SagaStatus.Compensated => SagaEventKind.Compensated,
            SagaStatus.CompensationFailed => SagaEventKind.CompensationFailed,
            _ => null,
        };
        SagaEventKind[] terminals = [SagaEventKind.Completed, SagaEventKind.Compensated, SagaEventKind.CompensationFailed];
        if (terminal is { } last && (history[^1].Kind != last || history.Count(e => terminals.Contains(e.Kind)) != 1))
        {
            problem($"the history does not end with exactly one {last} line. History: {HistoryText(history)}");
        }

        if (history.FirstOrDefault(e => e.Kind is SagaEventKind.Suspended or SagaEventKind.DeadlineExceeded or SagaEventKind.Retried or SagaEventKind.Resolved) is { } odd)
        {
            problem($"unexpected {odd.Kind} line {odd.Sequence}: {odd.Detail}");
        }
    }

    private static void CheckAttempts(CrashSagaData plan, IReadOnlyList<SagaEvent> history, Dictionary<string, SagaEvent> completed, Dictionary<string, SagaEvent> failed, Action<string> problem)
    {
        void Expect(string what, IEnumerable<int> actual, IEnumerable<int> expected)
        {
            if (!actual.SequenceEqual(expected))
            {
                problem($"{what}: attempts [{string.Join(",", actual)}], expected [{string.Join(",", expected)}] (attempt numbers carry across restarts). History: {HistoryText(history)}");
            }
        }

        IEnumerable<int> Attempts(SagaEventKind kind, string step) => history.Where(e => e.Kind == kind && e.Step == step).Select(e => e.Attempt);

        // Charge fails on attempts 1 and 2 by design and runs attempt 3 (completing, or failing after its effect).
        bool chargeRan = completed.ContainsKey(CrashPlan.Charge) || failed.ContainsKey(CrashPlan.Charge);
        Expect("charge's failed attempts", Attempts(SagaEventKind.StepAttemptFailed, CrashPlan.Charge), chargeRan ? Enumerable.Range(1, CrashPlan.ChargeFailingAttempts) : []);
        foreach (SagaEvent line in completed.Values.Concat(failed.Values))
        {
            int attempt = line.Step == CrashPlan.Charge ? CrashPlan.ChargeFailingAttempts + 1 : 1;
            Expect($"{line.Kind} of {line.Step}", [line.Attempt], [attempt]);
        }

        if (history.FirstOrDefault(e => e.Kind == SagaEventKind.StepAttemptFailed && e.Step != CrashPlan.Charge) is { } other)
        {
            problem($"step {other.Step} failed an attempt (line {other.Sequence}): only charge's fail by design. History: {HistoryText(history)}");
        }

        // Compensations: reserve's fails on attempt 1, confirm's on 1 and 2, the parked step's on every attempt.
        foreach (string step in CrashPlan.Compensable)
        {
            int failing = step == plan.ParkAt ? CrashPlan.CompensationMaxAttempts - 1 : step == CrashPlan.Reserve ? 1 : step == CrashPlan.Confirm ? 2 : 0;
            List<int> done = [.. Attempts(SagaEventKind.CompensationCompleted, step)];
            List<int> parked = [.. Attempts(SagaEventKind.CompensationFailed, step)];
            if (done.Count + parked.Count == 0)
            {
                continue;
            }

            Expect($"{step}'s failed compensation attempts", Attempts(SagaEventKind.CompensationAttemptFailed, step), Enumerable.Range(1, failing));
            Expect($"{step}'s last compensation attempt", [.. done, .. parked], [failing + 1]);
        }
    }
}
