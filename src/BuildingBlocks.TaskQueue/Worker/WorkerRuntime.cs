using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.TaskQueue;

/// <summary>What every part of one worker shares: the store, options, clock, telemetry and log.</summary>
internal sealed class WorkerRuntime(
    string name,
    ITaskStore store,
    TaskQueueOptions options,
    TimeProvider timeProvider,
    TaskQueueTelemetry telemetry,
    TaskNotifier notifier,
    IServiceScopeFactory scopeFactory,
    ILogger logger)
{
    public string Name { get; } = name;

    public ITaskStore Store { get; } = store;

    public TaskQueueOptions Options { get; } = options;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public TaskQueueTelemetry Telemetry { get; } = telemetry;

    public TaskNotifier Notifier { get; } = notifier;

    public IServiceScopeFactory ScopeFactory { get; } = scopeFactory;

    public ILogger Logger { get; } = logger;

    public RetryScheduler Retries { get; } = new(options, timeProvider);
}
