namespace BuildingBlocks.Sagas;

/// <summary>A validated definition with its typed steps.</summary>
internal sealed class SagaBlueprint<TData> : SagaBlueprint
    where TData : class
{
    private SagaBlueprint(SagaDefinition<TData> definition, SagaBuilder<TData> builder)
        : base(definition.Name, definition.Version, typeof(TData), [.. builder.ResumedVersions], builder.Deadline)
    {
        Definition = definition;
        Stages = [.. builder.Stages];
        Steps = builder.AllSteps.ToDictionary(s => s.Name, StringComparer.Ordinal);
        Layout = [.. Stages.Select(stage => (stage.Group, (IReadOnlyList<(string, bool)>)[.. stage.Steps.Select(s => (s.Name, s.Compensation is not null))]))];
    }

    public SagaDefinition<TData> Definition { get; }

    public IReadOnlyList<SagaStage<TData>> Stages { get; }

    public IReadOnlyDictionary<string, SagaStepDefinition<TData>> Steps { get; }

    public override IReadOnlyList<(string? Group, IReadOnlyList<(string Step, bool HasCompensation)> Steps)> Layout { get; }

    public override string SerializeStartData(SagaRuntime runtime, object data) =>
        data is TData typed
            ? runtime.Serializer<TData>().SerializeChecked(typed)
            : throw new ArgumentException($"Saga '{Name}' takes data of type {typeof(TData).FullName}, not {data.GetType().FullName}.", nameof(data));

    public override SagaExecution CreateExecution(SagaRecord record, SagaRuntime runtime, SagaProgress progress) =>
        new SagaExecution<TData>(record, runtime, this, progress, runtime.Serializer<TData>().Deserialize(record.Data));

    public static SagaBlueprint<TData> Build(SagaDefinition<TData> definition)
    {
        string typeName = definition.GetType().Name;
        string? nameProblem = NameProblem(definition.Name, "the saga name");
        if (nameProblem is not null)
        {
            throw new SagaDefinitionException($"Saga definition {typeName}: {nameProblem}.");
        }

        string title = $"Saga '{definition.Name}' version {definition.Version} ({typeName})";
        if (definition.Version < 1)
        {
            throw new SagaDefinitionException($"{title}: the version must be at least 1.");
        }

        SagaBuilder<TData> builder = new();
        try
        {
            definition.DefineInto(builder);
        }
        catch (Exception exception) when (exception is not SagaDefinitionException)
        {
            throw new SagaDefinitionException($"{title}: Define threw {exception.GetType().Name}: {exception.Message}", exception);
        }

        List<string> problems = [.. builder.Problems];
        if (builder.AllSteps.Count == 0)
        {
            problems.Add("it has no steps: declare at least one with saga.Step(\"name\").Execute(...)");
        }

        HashSet<string> seen = new(StringComparer.Ordinal);
        foreach (SagaStepDefinition<TData> step in builder.AllSteps)
        {
            string? problem = NameProblem(step.Name, "a step name");
            if (problem is not null)
            {
                problems.Add(problem);
                continue;
            }

            if (step.Name.Contains('/', StringComparison.Ordinal))
            {
                problems.Add($"step '{step.Name}' contains '/', which separates the parts of idempotency keys");
            }

            if (!seen.Add(step.Name))
            {
                problems.Add($"two steps are named '{step.Name}': step names must be unique (they identify completed steps and idempotency keys)");
            }

            if (step.Action is null)
            {
                problems.Add($"step '{step.Name}' has no action: call .Execute(...)");
            }

            if (step.CompensateWhenFailed && step.Compensation is null)
            {
                problems.Add($"step '{step.Name}' is marked CompensateWhenFailed but has no compensation");
            }

            AddTimeProblem(problems, step.AttemptTimeout, $"step '{step.Name}' timeout");
            AddTimeProblem(problems, step.StepTimeout, $"step '{step.Name}' step timeout");
            AddTimeProblem(problems, step.CompensationAttemptTimeout, $"step '{step.Name}' compensation timeout");
            AddRetryProblem(problems, step.Retry, $"step '{step.Name}' retry");
            AddRetryProblem(problems, step.CompensationRetry, $"step '{step.Name}' compensation retry");
        }

        foreach (SagaStage<TData> stage in builder.Stages.Where(s => s.Group is not null))
        {
            string? problem = NameProblem(stage.Group, "a parallel group name");
            if (problem is not null)
            {
                problems.Add(problem);
            }
        }

        AddTimeProblem(problems, builder.Deadline, "the deadline");
        if (builder.ResumedVersions.Any(v => v < 1 || v >= definition.Version))
        {
            problems.Add($"ResumesVersions({string.Join(", ", builder.ResumedVersions)}) must list older versions only (1 to {definition.Version - 1})");
        }

        if (problems.Count > 0)
        {
            throw new SagaDefinitionException($"{title} is invalid: {string.Join("; ", problems)}.");
        }

        return new SagaBlueprint<TData>(definition, builder);
    }

    private static void AddTimeProblem(List<string> problems, TimeSpan? value, string what)
    {
        if (value is { } time && (time <= TimeSpan.Zero || time > TimeSpan.FromDays(365)))
        {
            problems.Add($"{what} is {time}: it must be positive and at most 365 days");
        }
    }

    private static void AddRetryProblem(List<string> problems, SagaRetryPolicy? policy, string what)
    {
        string? problem = policy?.Problem(what);
        if (problem is not null)
        {
            problems.Add(problem.TrimEnd('.'));
        }
    }
}
