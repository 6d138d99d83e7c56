namespace BuildingBlocks.TaskQueue;

/// <summary>Scheduling options for the typed <see cref="ITaskQueue.EnqueueAsync{TPayload}(string, TPayload, EnqueueOptions?, System.Threading.CancellationToken)"/>.</summary>
public sealed class EnqueueOptions
{
    /// <summary>Higher runs first among tasks that are due. Default 0.</summary>
    public int Priority { get; init; }

    /// <summary>The earliest time the task may run; <see langword="null"/> means now.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>How many claims the task may use; <see langword="null"/> uses <see cref="TaskQueueOptions.DefaultMaxAttempts"/>.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Deduplication key; see <see cref="NewTask.UniqueKey"/>.</summary>
    public string? UniqueKey { get; init; }
}
