namespace BuildingBlocks.Sagas;

/// <summary>What <see cref="SagaDefinition{TData}"/> declares its steps with, in the order they run.</summary>
/// <typeparam name="TData">The saga data type.</typeparam>
public sealed class SagaBuilder<TData>
    where TData : class
{
    private readonly List<SagaStepDefinition<TData>> _allSteps = [];

    internal SagaBuilder()
    {
    }

    internal List<SagaStage<TData>> Stages { get; } = [];

    internal IReadOnlyList<SagaStepDefinition<TData>> AllSteps => _allSteps;

    internal TimeSpan? Deadline { get; private set; }

    internal HashSet<int> ResumedVersions { get; } = [];

    internal List<string> Problems { get; } = [];

    /// <summary>Adds the next step.</summary>
    /// <param name="name">The step name, unique in the saga (it is part of the idempotency key; no '/').</param>
    /// <returns>The step builder: <c>.Execute(...)</c>, <c>.Compensate(...)</c>, retries and timeouts.</returns>
    public SagaStepBuilder<TData> Step(string name)
    {
        SagaStepDefinition<TData> step = new(name, null);
        Stages.Add(new SagaStage<TData>(null, [step]));
        Note(step);
        return new SagaStepBuilder<TData>(step);
    }

    /// <summary>
    /// Adds a group of steps that run at the same time; the saga goes on when all complete. If one fails for good, the
    /// others finish their current attempt (no new ones), then every completed step is compensated.
    /// </summary>
    /// <param name="name">The group name (for diagrams and errors).</param>
    /// <param name="branches">Declares the branches (at least two).</param>
    /// <returns>This builder.</returns>
    public SagaBuilder<TData> Parallel(string name, Action<SagaParallelBuilder<TData>> branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        SagaParallelBuilder<TData> group = new(this, name);
        branches(group);
        if (group.Branches.Count < 2)
        {
            Problems.Add($"parallel group '{name}' has {group.Branches.Count} branch(es): a group needs at least two (use Step for one)");
        }

        Stages.Add(new SagaStage<TData>(name, group.Branches));
        return this;
    }

    /// <summary>Limits the whole saga, from its start: past it, the running step is canceled and compensation starts.</summary>
    /// <param name="deadline">The time the saga's actions may take in all.</param>
    /// <returns>This builder.</returns>
    public SagaBuilder<TData> WithDeadline(TimeSpan deadline)
    {
        Deadline = deadline;
        return this;
    }

    /// <summary>
    /// Declares that this definition can carry on sagas started under the given older versions: their completed steps are
    /// matched by name (each must still exist here). Without it, such sagas are suspended until their own version is registered.
    /// </summary>
    /// <param name="versions">The older versions.</param>
    /// <returns>This builder.</returns>
    public SagaBuilder<TData> ResumesVersions(params int[] versions)
    {
        ArgumentNullException.ThrowIfNull(versions);
        ResumedVersions.UnionWith(versions);
        return this;
    }

    internal void Note(SagaStepDefinition<TData> step) => _allSteps.Add(step);
}
