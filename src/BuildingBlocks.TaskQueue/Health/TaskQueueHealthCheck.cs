using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BuildingBlocks.TaskQueue;

/// <summary>
/// Reports stuck work (a due task has waited longer than <see cref="TaskQueueHealthCheckOptions.MaxReadyWait"/>, or
/// expired leases pile up) and dead letters; an unreachable store is unhealthy. Data: counts per queue.
/// </summary>
public sealed class TaskQueueHealthCheck : IHealthCheck
{
    private readonly ITaskQueue _queue;
    private readonly TaskQueueHealthCheckOptions _options;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the check.</summary>
    /// <param name="queue">The task queue to inspect.</param>
    /// <param name="options">The thresholds.</param>
    /// <param name="timeProvider">The clock.</param>
    public TaskQueueHealthCheck(ITaskQueue queue, TaskQueueHealthCheckOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _queue = queue;
        _options = options;
        _timeProvider = timeProvider;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<QueueStatistics> statistics;
        try
        {
            statistics = await _queue.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new HealthCheckResult(context?.Registration.FailureStatus ?? HealthStatus.Unhealthy, "The task store cannot be read.", e);
        }

        DateTimeOffset now = _timeProvider.GetUtcNow();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        List<string> stuck = [];
        List<string> dead = [];
        foreach (QueueStatistics s in statistics)
        {
            data[s.Queue] = $"ready {s.Ready}, scheduled {s.Scheduled}, leased {s.Leased}, expired leases {s.ExpiredLeases}, dead-lettered {s.DeadLettered}";
            if (s.OldestReadyRunAt is { } oldest && now - oldest > _options.MaxReadyWait)
            {
                stuck.Add($"'{s.Queue}': {s.Ready} due tasks, the oldest waiting {(now - oldest).TotalSeconds:F0} s (limit {_options.MaxReadyWait.TotalSeconds:F0} s; is a worker with a handler for it running?)");
            }

            if (s.DeadLettered > _options.MaxDeadLetters)
            {
                dead.Add($"'{s.Queue}': {s.DeadLettered} dead letters (limit {_options.MaxDeadLetters})");
            }
        }

        if (stuck.Count > 0)
        {
            return new HealthCheckResult(_options.StuckStatus, "Stuck work: " + string.Join("; ", stuck.Concat(dead)), data: data);
        }

        return dead.Count > 0
            ? new HealthCheckResult(_options.DeadLetterStatus, "Dead letters need attention: " + string.Join("; ", dead), data: data)
            : HealthCheckResult.Healthy($"{statistics.Count} queues, no stuck work, dead letters within limits.", data);
    }
}
