namespace BuildingBlocks.Sagas;

/// <summary>Which sagas to list: filters, and keyset paging by id.</summary>
public sealed record SagaQuery
{
    /// <summary>Only sagas with one of these statuses; <see langword="null"/> or empty for all.</summary>
    public IReadOnlyCollection<SagaStatus>? Statuses { get; init; }

    /// <summary>Only sagas of this definition name; <see langword="null"/> for all.</summary>
    public string? Name { get; init; }

    /// <summary>Only sagas whose id sorts after this one (ordinal); <see langword="null"/> to start at the first.</summary>
    public string? AfterId { get; init; }

    /// <summary>At most this many (1–1,000).</summary>
    public int Limit { get; init; } = 100;
}
