namespace BuildingBlocks.Sagas;

/// <summary>A position in the saga: one step, or a parallel group whose branches run together.</summary>
internal sealed class SagaStage<TData>
    where TData : class
{
    public SagaStage(string? group, IReadOnlyList<SagaStepDefinition<TData>> steps)
    {
        Group = group;
        Steps = steps;
    }

    /// <summary>The group name, or <see langword="null"/> for a single step.</summary>
    public string? Group { get; }

    public IReadOnlyList<SagaStepDefinition<TData>> Steps { get; }
}
