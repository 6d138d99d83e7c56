namespace BuildingBlocks.Sagas;

/// <summary>Unwinds an execution that must stop at once: its lease was lost, or it was suspended.</summary>
internal sealed class SagaHaltedException : Exception
{
    public SagaHaltedException()
    {
    }

    public SagaHaltedException(string message)
        : base(message)
    {
    }

    public SagaHaltedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public bool LeaseLost { get; init; }
}
