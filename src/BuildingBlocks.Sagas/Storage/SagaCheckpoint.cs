namespace BuildingBlocks.Sagas;

/// <summary>
/// Progress a lease holder writes: the new row values and the history lines, stored in one transaction and only while
/// <see cref="LeaseOwner"/> still holds the lease with <see cref="LeaseToken"/>.
/// </summary>
public sealed record SagaCheckpoint
{
    /// <summary>The saga id.</summary>
    public required string SagaId { get; init; }

    /// <summary>The coordinator writing.</summary>
    public required string LeaseOwner { get; init; }

    /// <summary>The fencing token the coordinator acquired the saga with.</summary>
    public required long LeaseToken { get; init; }

    /// <summary>The new status.</summary>
    public required SagaStatus Status { get; init; }

    /// <summary>The new data.</summary>
    public required string Data { get; init; }

    /// <summary>The new progress.</summary>
    public required string Progress { get; init; }

    /// <summary>The new error (replaces the stored one; <see langword="null"/> clears it).</summary>
    public string? Error { get; init; }

    /// <summary>The new <see cref="SagaRecord.UpdatedAt"/>.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>History lines to append (may be empty).</summary>
    public required IReadOnlyList<SagaEvent> Events { get; init; }

    /// <summary>Whether to give the lease up with this write (finished or parked sagas, graceful stop).</summary>
    public bool ReleaseLease { get; init; }
}
