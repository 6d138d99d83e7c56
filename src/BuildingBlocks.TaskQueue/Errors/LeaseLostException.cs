namespace BuildingBlocks.TaskQueue;

/// <summary>
/// The worker no longer holds the task's lease: it expired and was swept, or another worker claimed the task. The
/// heartbeat, completion or failure was refused and changed nothing; another attempt owns the task now.
/// </summary>
public sealed class LeaseLostException : Exception
{
    /// <summary>Creates the exception for a task and the token that was presented.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="leaseToken">The stale lease token.</param>
    /// <param name="operation">What was refused (heartbeat, complete, fail, release).</param>
    public LeaseLostException(long taskId, long leaseToken, string operation)
        : base($"The lease on task {taskId} (token {leaseToken}) is no longer held, so '{operation}' was refused and nothing changed. The lease expired or another worker claimed the task; that attempt owns it now.")
    {
        TaskId = taskId;
        LeaseToken = leaseToken;
        Operation = operation;
    }

    /// <summary>Creates the exception with a message.</summary>
    public LeaseLostException()
        : this(0, 0, "unknown")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public LeaseLostException(string message)
        : base(message)
    {
        Operation = "unknown";
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = "unknown";
    }

    /// <summary>The task id.</summary>
    public long TaskId { get; }

    /// <summary>The stale lease token that was presented.</summary>
    public long LeaseToken { get; }

    /// <summary>What was refused.</summary>
    public string Operation { get; }
}
