using System.Globalization;
using BuildingBlocks.Sagas;

namespace Sagas.TripBooking;

/// <summary>How the sample prints a saga's history.</summary>
internal static class TripReport
{
    public static void WriteHistory(TextWriter output, IReadOnlyList<SagaEvent> history, string indent = "    ")
    {
        var table = new TextTable("#", "Event", "Step", "Attempt", "Lease", "Took", "Detail");
        foreach (SagaEvent line in history)
        {
            table.Add(
                Invariant($"{line.Sequence}"),
                line.Kind.ToString(),
                line.Step ?? "",
                line.Attempt > 0 ? Invariant($"{line.Attempt}") : "",
                line.LeaseToken > 0 ? Invariant($"{line.LeaseToken}") : "",
                line.Duration is { } took ? Invariant($"{took.TotalMilliseconds:0} ms") : "",
                Shorten(line.Detail ?? ""));
        }

        table.WriteTo(output, indent);
    }

    /// <summary>The steps whose compensation completed, in the order they ran.</summary>
    public static IReadOnlyList<string> Compensations(IReadOnlyList<SagaEvent> history) =>
        [.. history.Where(e => e.Kind == SagaEventKind.CompensationCompleted).Select(e => e.Step!)];

    /// <summary>The steps whose action completed, in the order they completed.</summary>
    public static IReadOnlyList<string> Completions(IReadOnlyList<SagaEvent> history) =>
        [.. history.Where(e => e.Kind == SagaEventKind.StepCompleted).Select(e => e.Step!)];

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length <= 70 ? text : string.Concat(text.AsSpan(0, 69), "…");
}
