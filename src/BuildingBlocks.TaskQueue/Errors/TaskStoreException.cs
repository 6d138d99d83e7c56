namespace BuildingBlocks.TaskQueue;

/// <summary>
/// The store could not do what was asked (the database is unreachable, locked for too long, corrupt or not a task
/// store). The operation changed nothing; the message says what failed and what to check.
/// </summary>
public class TaskStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskStoreException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public TaskStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TaskStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
