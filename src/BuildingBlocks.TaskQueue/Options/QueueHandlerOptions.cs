namespace BuildingBlocks.TaskQueue;

/// <summary>How the hosted worker runs the handler of one queue.</summary>
public sealed class QueueHandlerOptions
{
    /// <summary>How many tasks of this queue run at once in this process. Default 1; 1 to 1,000.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>
    /// How long one attempt may run. When it passes, the handler's token fires and the attempt fails (and retries);
    /// a handler that ignores its token stops being heartbeated, so its lease expires and another worker takes the
    /// task. Default <see langword="null"/>: no limit (a live, heartbeating handler keeps its lease).
    /// </summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Overrides <see cref="TaskQueueOptions.RetryBaseDelay"/> for this queue.</summary>
    public TimeSpan? RetryBaseDelay { get; set; }

    /// <summary>Overrides <see cref="TaskQueueOptions.RetryMaxDelay"/> for this queue.</summary>
    public TimeSpan? RetryMaxDelay { get; set; }
}
