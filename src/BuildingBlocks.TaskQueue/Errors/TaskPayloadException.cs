namespace BuildingBlocks.TaskQueue;

/// <summary>A payload could not be read as the type the handler expects; retrying cannot help, so the task is dead-lettered.</summary>
public sealed class TaskPayloadException : PermanentTaskFailureException
{
    /// <summary>Creates the exception for a task.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="payloadType">The type the handler expects.</param>
    /// <param name="innerException">The serializer's error.</param>
    public TaskPayloadException(long taskId, Type payloadType, Exception innerException)
        : base($"The payload of task {taskId} could not be read as {payloadType?.FullName}: {innerException?.Message}", innerException!)
    {
        TaskId = taskId;
    }

    /// <summary>Creates the exception.</summary>
    public TaskPayloadException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public TaskPayloadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TaskPayloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The task id.</summary>
    public long TaskId { get; }
}
