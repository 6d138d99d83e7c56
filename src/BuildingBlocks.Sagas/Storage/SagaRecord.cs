namespace BuildingBlocks.Sagas;

/// <summary>A saga as a store keeps it: one row. <see cref="Data"/> and <see cref="Progress"/> are text the store keeps as given.</summary>
public sealed record SagaRecord
{
    /// <summary>The saga id (unique; at most 200 characters).</summary>
    public required string Id { get; init; }

    /// <summary>The definition name.</summary>
    public required string Name { get; init; }

    /// <summary>The definition version the saga started with (pinned for its whole life).</summary>
    public required int Version { get; init; }

    /// <summary>The status.</summary>
    public required SagaStatus Status { get; init; }

    /// <summary>The saga data, serialized (JSON).</summary>
    public required string Data { get; init; }

    /// <summary>The coordinator's record of step outcomes (opaque to stores).</summary>
    public required string Progress { get; init; }

    /// <summary>The error that made the saga compensate or park, or <see langword="null"/>.</summary>
    public string? Error { get; init; }

    /// <summary>When the saga was started.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the saga row last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The coordinator holding the lease, or <see langword="null"/> when none does.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>
    /// The fencing token: raised by one every time a coordinator acquires the saga. Writes presenting an older token are
    /// refused. 0 before the first lease.
    /// </summary>
    public long LeaseToken { get; init; }

    /// <summary>When the lease ends unless renewed, or <see langword="null"/> when not leased.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }
}
