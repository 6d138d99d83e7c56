namespace BuildingBlocks.TaskQueue;

/// <summary>A stored task row holds a value no version of this library writes (edited by hand, or a damaged file).</summary>
public sealed class CorruptTaskException : TaskStoreException
{
    /// <summary>Creates the exception for one row and column.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="column">The column with the bad value.</param>
    /// <param name="detail">What is wrong with it.</param>
    public CorruptTaskException(long taskId, string column, string detail)
        : base($"Task {taskId} is stored with an invalid '{column}': {detail}. The row was left as it is; fix or delete it by hand.")
    {
        TaskId = taskId;
        Column = column;
    }

    /// <summary>Creates the exception.</summary>
    public CorruptTaskException()
    {
        Column = string.Empty;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public CorruptTaskException(string message)
        : base(message)
    {
        Column = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CorruptTaskException(string message, Exception innerException)
        : base(message, innerException)
    {
        Column = string.Empty;
    }

    /// <summary>The task id.</summary>
    public long TaskId { get; }

    /// <summary>The column with the bad value.</summary>
    public string Column { get; }
}
