namespace BuildingBlocks.Sagas;

/// <summary>One step of a saga as last checkpointed.</summary>
/// <param name="Name">The step name.</param>
/// <param name="Status">Where the step is.</param>
/// <param name="Attempts">Failed action attempts recorded.</param>
/// <param name="CompensationAttempts">Failed compensation attempts recorded.</param>
public sealed record SagaStepSnapshot(string Name, SagaStepStatus Status, int Attempts, int CompensationAttempts);
