namespace BuildingBlocks.Sagas;

/// <summary>
/// How a step's action or compensation is retried: attempts, exponential backoff with jitter, and which errors count
/// as retriable. A <see cref="PermanentStepFailureException"/> is never retried.
/// </summary>
public sealed class SagaRetryPolicy
{
    /// <summary>The most attempts, the first included (1 = no retry). Default 1.</summary>
    public int MaxAttempts { get; set; } = 1;

    /// <summary>The delay before the second attempt. Default 200 ms.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The largest delay between attempts. Default 30 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The delay multiplier per attempt (≥ 1). Default 2.</summary>
    public double BackoffFactor { get; set; } = 2;

    /// <summary>
    /// The random spread of each delay, as a fraction of it (0–1): 0.2 gives delays between 80% and 120% of the
    /// computed one, so many sagas failing together do not retry together. Default 0.2.
    /// </summary>
    public double Jitter { get; set; } = 0.2;

    /// <summary>Decides whether an error is worth another attempt; <see langword="null"/> retries every error but <see cref="PermanentStepFailureException"/>.</summary>
    public Func<Exception, bool>? ShouldRetry { get; set; }

    internal SagaRetryPolicy Clone() => (SagaRetryPolicy)MemberwiseClone();

    /// <summary>The delay before attempt <paramref name="nextAttempt"/> (≥ 2).</summary>
    internal TimeSpan DelayBefore(int nextAttempt, double random)
    {
        double factor = Math.Pow(BackoffFactor, Math.Max(0, nextAttempt - 2));
        double ticks = Math.Min(InitialDelay.Ticks * factor, MaxDelay.Ticks);
        ticks *= 1 + (Jitter * ((random * 2) - 1));
        return TimeSpan.FromTicks((long)Math.Clamp(ticks, 0, MaxDelay.Ticks));
    }

    internal bool IsRetriable(Exception exception) =>
        exception is not PermanentStepFailureException && (ShouldRetry?.Invoke(exception) ?? true);

    /// <summary>The first problem with these values, or <see langword="null"/>.</summary>
    internal string? Problem(string owner)
    {
        if (MaxAttempts < 1)
        {
            return $"{owner}.MaxAttempts is {MaxAttempts}: it must be at least 1 (1 = no retry).";
        }

        if (InitialDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero)
        {
            return $"{owner}.InitialDelay ({InitialDelay}) and MaxDelay ({MaxDelay}) must not be negative.";
        }

        if (InitialDelay > MaxDelay)
        {
            return $"{owner}.InitialDelay ({InitialDelay}) is larger than MaxDelay ({MaxDelay}).";
        }

        if (MaxDelay > TimeSpan.FromDays(1))
        {
            return $"{owner}.MaxDelay is {MaxDelay}: it must be at most one day.";
        }

        if (double.IsNaN(BackoffFactor) || BackoffFactor < 1 || BackoffFactor > 100)
        {
            return $"{owner}.BackoffFactor is {BackoffFactor}: it must be between 1 and 100.";
        }

        if (double.IsNaN(Jitter) || Jitter < 0 || Jitter > 1)
        {
            return $"{owner}.Jitter is {Jitter}: it must be between 0 and 1.";
        }

        return null;
    }
}
