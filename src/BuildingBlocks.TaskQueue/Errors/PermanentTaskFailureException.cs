namespace BuildingBlocks.TaskQueue;

/// <summary>
/// Thrown by a handler when retrying cannot help (invalid input, a rejected business rule): the task is
/// dead-lettered at once with this message instead of using its remaining attempts.
/// </summary>
public class PermanentTaskFailureException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PermanentTaskFailureException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PermanentTaskFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PermanentTaskFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
