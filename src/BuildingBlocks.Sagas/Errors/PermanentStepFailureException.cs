namespace BuildingBlocks.Sagas;

/// <summary>
/// Thrown by a step to say it failed for good (a declined card, an unknown product): no retry; the saga compensates
/// (or, thrown by a compensation, parks).
/// </summary>
public class PermanentStepFailureException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PermanentStepFailureException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Why the step failed.</param>
    public PermanentStepFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error behind it.</summary>
    /// <param name="message">Why the step failed.</param>
    /// <param name="innerException">The error behind it.</param>
    public PermanentStepFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
