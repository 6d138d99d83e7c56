namespace BuildingBlocks.Sagas;

/// <summary>Saga data that cannot be saved: it does not serialize, does not read back, or is larger than <see cref="SagaOptions.MaxDataBytes"/>.</summary>
public sealed class SagaDataException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SagaDataException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public SagaDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error behind it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The error behind it.</param>
    public SagaDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
