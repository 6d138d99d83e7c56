using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BuildingBlocks.TaskQueue;

/// <summary>What the task queue health check treats as stuck or failing work.</summary>
public sealed class TaskQueueHealthCheckOptions
{
    /// <summary>A due task waiting longer than this means nobody is working the queue (no handler, workers down or overloaded). Default 5 min.</summary>
    public TimeSpan MaxReadyWait { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>More dead letters than this in any queue is reported. Default 0: any dead letter is reported.</summary>
    public long MaxDeadLetters { get; set; }

    /// <summary>The status reported for stuck work. Default <see cref="HealthStatus.Unhealthy"/>.</summary>
    public HealthStatus StuckStatus { get; set; } = HealthStatus.Unhealthy;

    /// <summary>The status reported for dead letters above <see cref="MaxDeadLetters"/>. Default <see cref="HealthStatus.Degraded"/>.</summary>
    public HealthStatus DeadLetterStatus { get; set; } = HealthStatus.Degraded;
}
