namespace BuildingBlocks.Sagas;

/// <summary>No saga has the given id, or no definition the given name.</summary>
public sealed class SagaNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SagaNotFoundException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was not found.</param>
    public SagaNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error behind it.</summary>
    /// <param name="message">What was not found.</param>
    /// <param name="innerException">The error behind it.</param>
    public SagaNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
