namespace BuildingBlocks.TaskQueue;

/// <summary>
/// A handler for JSON payloads of type <typeparamref name="TPayload"/>. A payload that cannot be read as that type
/// dead-letters the task at once (<see cref="TaskPayloadException"/>): retrying cannot fix it.
/// </summary>
/// <typeparam name="TPayload">The payload type the producer enqueued.</typeparam>
public abstract class TaskHandler<TPayload> : ITaskHandler
{
    ValueTask ITaskHandler.HandleAsync(TaskContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        TPayload payload = context.GetPayload<TPayload>();
        return HandleAsync(payload, context, cancellationToken);
    }

    /// <summary>Runs one attempt with the deserialized payload.</summary>
    /// <param name="payload">The payload.</param>
    /// <param name="context">The task and its lease.</param>
    /// <param name="cancellationToken">Fires when the lease is lost, the task is canceled, the attempt times out or the host stops.</param>
    /// <returns>A task that completes when the attempt is done.</returns>
    protected abstract ValueTask HandleAsync(TPayload payload, TaskContext context, CancellationToken cancellationToken);
}
