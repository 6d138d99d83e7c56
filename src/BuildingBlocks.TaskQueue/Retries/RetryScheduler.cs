namespace BuildingBlocks.TaskQueue;

/// <summary>Decides how a failed attempt ends: exponential backoff with jitter, or dead-letter after the last attempt.</summary>
internal sealed class RetryScheduler
{
    private const int MaxErrorLength = 4000;
    private readonly TaskQueueOptions _options;
    private readonly TimeProvider _timeProvider;

    public RetryScheduler(TaskQueueOptions options, TimeProvider timeProvider)
    {
        _options = options;
        _timeProvider = timeProvider;
    }

    public TaskFailure Decide(LeasedTask task, Exception error, bool permanent, QueueHandlerOptions? queueOptions)
    {
        string text = Describe(error);
        if (permanent || error is PermanentTaskFailureException || task.Attempt >= task.MaxAttempts)
        {
            return new TaskFailure(text, RetryAt: null);
        }

        TimeSpan delay = Delay(task.Attempt, queueOptions?.RetryBaseDelay ?? _options.RetryBaseDelay, queueOptions?.RetryMaxDelay ?? _options.RetryMaxDelay, _options.RetryJitter);
        return new TaskFailure(text, _timeProvider.GetUtcNow() + delay);
    }

    /// <summary>base × 2^(attempt − 1), capped at max, then spread by ±jitter (and capped again).</summary>
    internal static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, double jitter, double random01 = double.NaN)
    {
        double exponent = Math.Min(Math.Max(attempt - 1, 0), 62);
        double ticks = Math.Min(baseDelay.Ticks * Math.Pow(2, exponent), maxDelay.Ticks);
        double r = double.IsNaN(random01) ? Random.Shared.NextDouble() : random01;
        ticks *= 1 + (jitter * ((2 * r) - 1));
        return TimeSpan.FromTicks((long)Math.Clamp(ticks, 0, maxDelay.Ticks));
    }

    internal static string Describe(Exception error)
    {
        string text = $"{error.GetType().FullName}: {error.Message}";
        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }
}
