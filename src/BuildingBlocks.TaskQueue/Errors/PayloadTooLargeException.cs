namespace BuildingBlocks.TaskQueue;

/// <summary>A payload is larger than <see cref="TaskQueueOptions.MaxPayloadBytes"/>; nothing was enqueued.</summary>
public sealed class PayloadTooLargeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="size">The payload size in bytes.</param>
    /// <param name="limit">The limit in bytes.</param>
    public PayloadTooLargeException(string queue, long size, long limit)
        : base($"The payload for queue '{queue}' is {size} bytes, more than TaskQueueOptions.MaxPayloadBytes ({limit}). Nothing was enqueued. Store large data elsewhere and enqueue a reference, or raise MaxPayloadBytes.", "task")
    {
        Queue = queue;
        Size = size;
        Limit = limit;
    }

    /// <summary>Creates the exception.</summary>
    public PayloadTooLargeException()
    {
        Queue = string.Empty;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PayloadTooLargeException(string message)
        : base(message)
    {
        Queue = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PayloadTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Queue = string.Empty;
    }

    /// <summary>The queue.</summary>
    public string Queue { get; }

    /// <summary>The payload size in bytes.</summary>
    public long Size { get; }

    /// <summary>The limit in bytes.</summary>
    public long Limit { get; }
}
