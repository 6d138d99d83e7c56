using System.Collections.Concurrent;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>The data of a crash saga: its plan (from <see cref="CrashPlan.For"/>) and what the steps' effects returned.</summary>
internal sealed class CrashSagaData
{
    /// <summary>The saga's index (its id is <see cref="CrashPlan.SagaId"/>).</summary>
    public int Index { get; set; }

    /// <summary>The step whose action fails for good, or <see langword="null"/> when the saga completes.</summary>
    public string? FailAt { get; set; }

    /// <summary>Whether <see cref="FailAt"/> fails after applying its effect (charge: compensated although it failed).</summary>
    public bool FailAfterEffect { get; set; }

    /// <summary>The step whose compensation always fails (the saga parks as CompensationFailed), or <see langword="null"/>.</summary>
    public string? ParkAt { get; set; }

    /// <summary>
    /// Step → the ledger sequence of its forward effect (the "service" returns it; a repeated idempotency key returns the
    /// first one). Compensations send it back as what they undo. Concurrent: the parallel branches write it at once.
    /// </summary>
    public ConcurrentDictionary<string, long> Receipts { get; set; } = new(StringComparer.Ordinal);
}
