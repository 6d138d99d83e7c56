using BuildingBlocks.Sagas;

namespace BuildingBlocks.Sagas.Analysis;

/// <summary>The data of a measured saga: nothing but a counter, so serialization is not what is measured.</summary>
public sealed class ChainData
{
    public int Done { get; set; }
}

/// <summary>How many no-op steps the chain has, and whether its last step blocks (to leave sagas in flight).</summary>
public sealed class ChainSettings
{
    public int Steps { get; init; } = 10;

    private int _held;

    /// <summary>While set, the last step waits for cancellation: the sagas stay in flight until the host stops.</summary>
    public bool HoldLastStep { get; init; }

    /// <summary>How many sagas are held in their last step.</summary>
    public int Held => Volatile.Read(ref _held);

    public void Hold() => Interlocked.Increment(ref _held);
}

/// <summary>A saga of <see cref="ChainSettings.Steps"/> no-op steps, each with a no-op compensation.</summary>
public sealed class ChainSaga(ChainSettings settings) : SagaDefinition<ChainData>
{
    public override string Name => "chain";

    protected override void Define(SagaBuilder<ChainData> saga)
    {
        for (int i = 0; i < settings.Steps - 1; i++)
        {
            saga.Step($"s{i}")
                .Execute((context, _) => { context.Data.Done++; return Task.CompletedTask; })
                .Compensate((_, _) => Task.CompletedTask);
        }

        saga.Step("last").Execute(async (context, cancellationToken) =>
        {
            if (settings.HoldLastStep)
            {
                settings.Hold();
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }

            context.Data.Done++;
        });
    }
}
