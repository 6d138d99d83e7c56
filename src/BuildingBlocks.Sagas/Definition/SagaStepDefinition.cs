namespace BuildingBlocks.Sagas;

/// <summary>One step as defined: what it runs, how it is undone, and its retry and time limits.</summary>
internal sealed class SagaStepDefinition<TData>
    where TData : class
{
    public SagaStepDefinition(string name, string? group)
    {
        Name = name;
        Group = group;
    }

    public string Name { get; }

    /// <summary>The parallel group the step is a branch of, or <see langword="null"/>.</summary>
    public string? Group { get; }

    public Func<SagaStepContext<TData>, CancellationToken, Task>? Action { get; set; }

    public Func<SagaStepContext<TData>, CancellationToken, Task>? Compensation { get; set; }

    public SagaRetryPolicy? Retry { get; set; }

    public SagaRetryPolicy? CompensationRetry { get; set; }

    public TimeSpan? AttemptTimeout { get; set; }

    public TimeSpan? StepTimeout { get; set; }

    public TimeSpan? CompensationAttemptTimeout { get; set; }

    /// <summary>Whether the compensation also runs when the action failed for good (it may have taken effect before failing).</summary>
    public bool CompensateWhenFailed { get; set; }
}
