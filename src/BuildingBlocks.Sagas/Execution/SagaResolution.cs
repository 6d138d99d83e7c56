namespace BuildingBlocks.Sagas;

/// <summary>The outcome of <see cref="SagaRegistry.Resolve"/>: run with a definition, suspend with a reason, or leave to another coordinator.</summary>
internal readonly record struct SagaResolution(SagaBlueprint? Blueprint, string? SuspendReason, string? SkipReason)
{
    public static SagaResolution Run(SagaBlueprint blueprint) => new(blueprint, null, null);

    public static SagaResolution Suspend(string reason) => new(null, reason, null);

    public static SagaResolution Skip(string reason) => new(null, null, reason);
}
