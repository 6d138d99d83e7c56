namespace BuildingBlocks.Sagas;

/// <summary>Declares the branches of a parallel group: steps that run at the same time.</summary>
/// <typeparam name="TData">The saga data type.</typeparam>
public sealed class SagaParallelBuilder<TData>
    where TData : class
{
    private readonly SagaBuilder<TData> _saga;
    private readonly string _group;

    internal SagaParallelBuilder(SagaBuilder<TData> saga, string group)
    {
        _saga = saga;
        _group = group;
    }

    internal List<SagaStepDefinition<TData>> Branches { get; } = [];

    /// <summary>Adds a branch.</summary>
    /// <param name="name">The step name, unique in the saga.</param>
    /// <returns>The step builder.</returns>
    public SagaStepBuilder<TData> Step(string name)
    {
        SagaStepDefinition<TData> step = new(name, _group);
        Branches.Add(step);
        _saga.Note(step);
        return new SagaStepBuilder<TData>(step);
    }
}
