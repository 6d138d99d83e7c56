namespace BuildingBlocks.Sagas;

/// <summary>A saga definition is invalid (no steps, duplicate step names, a step without action…); thrown at start-up.</summary>
public sealed class SagaDefinitionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SagaDefinitionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public SagaDefinitionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error behind it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The error behind it.</param>
    public SagaDefinitionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
