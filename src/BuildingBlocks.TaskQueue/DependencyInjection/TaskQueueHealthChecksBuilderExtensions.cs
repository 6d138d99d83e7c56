using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the task queue health check.</summary>
public static class TaskQueueHealthChecksBuilderExtensions
{
    /// <summary>Reports stuck work and dead letters of a task queue registration.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The health check name. Default "taskqueue".</param>
    /// <param name="taskQueueName">The task queue registration name ("" for the default).</param>
    /// <param name="configure">Configures the thresholds.</param>
    /// <param name="tags">Tags for filtering checks.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddTaskQueue(this IHealthChecksBuilder builder, string name = "taskqueue", string taskQueueName = "", Action<TaskQueueHealthCheckOptions>? configure = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(taskQueueName);
        var options = new TaskQueueHealthCheckOptions();
        configure?.Invoke(options);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new TaskQueueHealthCheck(sp.GetRequiredKeyedService<ITaskQueue>(taskQueueName), options, sp.GetService<TimeProvider>() ?? TimeProvider.System),
            failureStatus: null,
            tags));
    }
}
