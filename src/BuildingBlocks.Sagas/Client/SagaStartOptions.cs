namespace BuildingBlocks.Sagas;

/// <summary>Choices for starting one saga.</summary>
public sealed record SagaStartOptions
{
    /// <summary>
    /// The saga id; <see langword="null"/> for a new sortable GUID (version 7). Give your own (an order number) to make the
    /// start idempotent: starting an id that exists starts nothing and returns it.
    /// </summary>
    public string? SagaId { get; init; }

    /// <summary>The definition to start, needed only when several definitions take the same data type.</summary>
    public string? SagaName { get; init; }
}
