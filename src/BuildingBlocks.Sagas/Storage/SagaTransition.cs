namespace BuildingBlocks.Sagas;

/// <summary>
/// A change made without a lease (operator actions): applied only when the saga has <see cref="ExpectedStatus"/> and no
/// live lease.
/// </summary>
public sealed record SagaTransition
{
    /// <summary>The saga id.</summary>
    public required string SagaId { get; init; }

    /// <summary>The status the saga must have for the change to apply.</summary>
    public required SagaStatus ExpectedStatus { get; init; }

    /// <summary>The new status.</summary>
    public required SagaStatus Status { get; init; }

    /// <summary>The new progress, or <see langword="null"/> to keep the stored one.</summary>
    public string? Progress { get; init; }

    /// <summary>The new error (replaces the stored one; <see langword="null"/> clears it).</summary>
    public string? Error { get; init; }

    /// <summary>The new <see cref="SagaRecord.UpdatedAt"/>.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>History lines to append.</summary>
    public required IReadOnlyList<SagaEvent> Events { get; init; }
}
