namespace BuildingBlocks.Sagas;

/// <summary>One run of one saga by this coordinator, from acquiring its lease to finishing, parking, stopping or losing the lease.</summary>
internal abstract class SagaExecution : IDisposable
{
    protected SagaExecution(SagaRecord record, SagaRuntime runtime)
    {
        Record = record;
        Runtime = runtime;
    }

    public SagaRecord Record { get; }

    public string SagaId => Record.Id;

    public long LeaseToken => Record.LeaseToken;

    protected SagaRuntime Runtime { get; }

    /// <summary>Graceful stop: start no new step or attempt; the running attempt finishes.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    /// <summary>Hard stop (shutdown timeout, lease lost): cancels the running attempt.</summary>
    public CancellationTokenSource Abort { get; } = new();

    /// <summary>Set by the coordinator when a renewal found the lease taken and already logged and counted the loss.</summary>
    public bool LeaseLossReported { get; set; }

    /// <summary>Runs until the saga finishes, parks, stops or loses its lease.</summary>
    /// <returns>The status the saga ended this run in; <see langword="null"/> when it stopped or lost its lease (still active).</returns>
    public abstract Task<SagaStatus?> RunAsync();

    public void Dispose()
    {
        Stopping.Dispose();
        Abort.Dispose();
    }
}
