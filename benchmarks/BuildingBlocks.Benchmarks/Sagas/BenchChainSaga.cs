using BuildingBlocks.Sagas;

namespace BuildingBlocks.Benchmarks.Sagas;

/// <summary>The data of a benchmarked saga: a counter, so data serialization stays small and is not what is measured.</summary>
public sealed class BenchChainData
{
    public int Done { get; set; }
}

/// <summary>A saga of <see cref="StepCount"/> no-op steps, each with a compensation: only the coordinator's own cost remains.</summary>
public sealed class BenchChainSaga : SagaDefinition<BenchChainData>
{
    public const int StepCount = 10;

    public override string Name => "bench-chain";

    protected override void Define(SagaBuilder<BenchChainData> saga)
    {
        for (int i = 0; i < StepCount; i++)
        {
            saga.Step($"s{i}")
                .Execute((context, _) => { context.Data.Done++; return Task.CompletedTask; })
                .Compensate((_, _) => Task.CompletedTask);
        }
    }
}
