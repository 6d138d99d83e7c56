using System.Globalization;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>
/// What every crash saga does and how each one is meant to end, known to the host (which runs them) and to the tests
/// (which check the outcome): compiled into both from this one file.
/// </summary>
/// <remarks>
/// The saga: <c>reserve → charge → [pack | label | notify] → audit → confirm → finalize</c>. Compensable: reserve,
/// charge (also when its action failed after its effect: CompensateWhenFailed), pack, label, confirm, finalize. Built-in
/// failures, the same for every saga: charge's action fails (retriably) on attempts 1 and 2 and completes on attempt 3;
/// reserve's compensation fails on attempt 1, confirm's on attempts 1 and 2. Per saga (from its index): a step whose
/// action fails for good, and a compensable step whose compensation always fails (the saga parks).
/// </remarks>
internal static class CrashPlan
{
    public const string SagaName = "crash-order";

    public const string Reserve = "reserve";
    public const string Charge = "charge";
    public const string Ship = "ship";
    public const string Pack = "pack";
    public const string Label = "label";
    public const string Notify = "notify";
    public const string Audit = "audit";
    public const string Confirm = "confirm";
    public const string Finalize = "finalize";

    /// <summary>The action attempts of charge that fail retriably before attempt <see cref="ChargeFailingAttempts"/> + 1 completes.</summary>
    public const int ChargeFailingAttempts = 2;

    /// <summary>Charge's action attempts (its retry limit): enough for the built-in failures.</summary>
    public const int ChargeMaxAttempts = 4;

    /// <summary>The compensation attempts of every step (the retry limit); a compensation that always fails parks the saga after these.</summary>
    public const int CompensationMaxAttempts = 4;

    /// <summary>The stages in order; a stage of several steps is the parallel group <see cref="Ship"/>.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> Stages =
    [
        [Reserve],
        [Charge],
        [Pack, Label, Notify],
        [Audit],
        [Confirm],
        [Finalize],
    ];

    public static readonly IReadOnlyList<string> Steps = [.. Stages.SelectMany(s => s)];

    public static readonly IReadOnlySet<string> Compensable = new HashSet<string>(StringComparer.Ordinal) { Reserve, Charge, Pack, Label, Confirm, Finalize };

    private static readonly string[] s_failAt = [Reserve, Charge, Pack, Label, Notify, Audit, Confirm, Finalize];

    /// <summary>The saga id of index <paramref name="index"/> (ids sort by index).</summary>
    public static string SagaId(int index) => string.Create(CultureInfo.InvariantCulture, $"crash-{index:D6}");

    /// <summary>The index of a saga id made by <see cref="SagaId"/>.</summary>
    public static int Index(string sagaId) => int.Parse(sagaId.AsSpan("crash-".Length), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>
    /// The data saga <paramref name="index"/> starts with. A quarter complete; the others fail at a step (cycling through
    /// all of them; at charge after its effect); one in six of those fails late with a compensation that always fails.
    /// </summary>
    public static CrashSagaData For(int index)
    {
        var data = new CrashSagaData { Index = index };
        if (index % 4 == 0)
        {
            return data;
        }

        data.FailAt = s_failAt[(index / 4) % s_failAt.Length];
        data.FailAfterEffect = data.FailAt == Charge;
        switch (index % 12)
        {
            case 5:
                // Fails at finalize: confirm is compensated, then pack and label in reverse completion order; pack's
                // compensation fails for good and parks the saga; charge, reserve (and label when it completed first) wait.
                data.FailAt = Finalize;
                data.FailAfterEffect = false;
                data.ParkAt = Pack;
                break;
            case 7:
                // Fails at audit; reserve (the last to compensate) fails for good after the others were undone.
                data.FailAt = Audit;
                data.FailAfterEffect = false;
                data.ParkAt = Reserve;
                break;
        }

        return data;
    }

    /// <summary>How saga <paramref name="index"/> must end.</summary>
    public static SagaStatus ExpectedStatus(int index)
    {
        CrashSagaData data = For(index);
        return data.FailAt is null ? SagaStatus.Completed
            : data.ParkAt is null ? SagaStatus.Compensated
            : SagaStatus.CompensationFailed;
    }

    /// <summary>The stage index of a step.</summary>
    public static int StageOf(string step)
    {
        for (int i = 0; i < Stages.Count; i++)
        {
            if (Stages[i].Contains(step))
            {
                return i;
            }
        }

        throw new ArgumentException($"Unknown step '{step}'.", nameof(step));
    }
}
