namespace BuildingBlocks.TaskQueue;

/// <summary>One queue's handler: how to create it and how to run it.</summary>
internal sealed class TaskHandlerRegistration(string queue, string handlerName, Func<IServiceProvider, ITaskHandler> factory, QueueHandlerOptions options)
{
    public string Queue { get; } = queue;

    /// <summary>The handler type or a description, for messages.</summary>
    public string HandlerName { get; } = handlerName;

    public Func<IServiceProvider, ITaskHandler> Factory { get; } = factory;

    public QueueHandlerOptions Options { get; } = options;
}
