namespace BuildingBlocks.Sagas;

/// <summary>A saga as last checkpointed.</summary>
public sealed record SagaSnapshot
{
    /// <summary>The saga id.</summary>
    public required string Id { get; init; }

    /// <summary>The definition name.</summary>
    public required string Name { get; init; }

    /// <summary>The definition version the saga is pinned to.</summary>
    public required int Version { get; init; }

    /// <summary>The status.</summary>
    public required SagaStatus Status { get; init; }

    /// <summary>Why the saga compensated or parked, or <see langword="null"/>.</summary>
    public string? Error { get; init; }

    /// <summary>When the saga started.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The saga data as JSON (read it typed with <see cref="ISagaClient.GetDataAsync{TData}"/>).</summary>
    public required string DataJson { get; init; }

    /// <summary>The steps in definition order (steps of an unknown definition in the order they ran).</summary>
    public required IReadOnlyList<SagaStepSnapshot> Steps { get; init; }

    /// <summary>The coordinator running the saga, or <see langword="null"/>.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>When that coordinator's lease ends unless renewed.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>Whether the saga is over: completed, compensated or resolved.</summary>
    public bool IsFinished => Status is SagaStatus.Completed or SagaStatus.Compensated or SagaStatus.Resolved;

    /// <summary>Whether the saga waits for an operator: compensation failed, or suspended.</summary>
    public bool IsParked => Status is SagaStatus.CompensationFailed or SagaStatus.Suspended;
}
