using Microsoft.Extensions.Options;

namespace BuildingBlocks.Caching;

/// <summary>Checks <see cref="CacheOptions{TKey,TValue}"/> at start-up; each failure names the option, its value and the rule.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class CacheOptionsValidator<TKey, TValue> : IValidateOptions<CacheOptions<TKey, TValue>>
    where TKey : notnull
{
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CacheOptions<TKey, TValue> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> errors = Errors(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every failure, for caches built without DI.</summary>
    internal static void ThrowIfInvalid(CacheOptions<TKey, TValue> options)
    {
        List<string> errors = Errors(options);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(options.Name ?? typeof(TValue).Name, typeof(CacheOptions<TKey, TValue>), errors);
        }
    }

    private static List<string> Errors(CacheOptions<TKey, TValue> o)
    {
        var errors = new List<string>();
        string prefix = $"CacheOptions<{typeof(TKey).Name}, {typeof(TValue).Name}>";

        void Positive(TimeSpan value, string option)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{prefix}.{option} is {value}; it must be greater than zero.");
            }
        }

        // Timers and delays take at most uint.MaxValue - 1 milliseconds (about 49.7 days).
        void Timer(TimeSpan value, string option)
        {
            Positive(value, option);
            if (value > MaxTimer)
            {
                errors.Add($"{prefix}.{option} is {value}; it must be at most {MaxTimer} (the longest timer .NET supports).");
            }
        }

        if (o.Name is not null && (o.Name.Length == 0 || o.Name.Length > 200 || o.Name.Any(char.IsWhiteSpace)))
        {
            errors.Add($"{prefix}.Name is '{o.Name}'; it must be 1 to 200 characters without white space.");
        }

        if (!Enum.IsDefined(o.Strategy))
        {
            errors.Add($"{prefix}.Strategy is {(int)o.Strategy}; it must be WriteThrough, WriteAround or WriteBack.");
        }

        if (!Enum.IsDefined(o.Eviction))
        {
            errors.Add($"{prefix}.Eviction is {(int)o.Eviction}; it must be FrequencyAware or Lru.");
        }

        if (o.L1Capacity < 3)
        {
            errors.Add($"{prefix}.L1Capacity is {o.L1Capacity}; it must be at least 3.");
        }

        Positive(o.Expiration, "Expiration");
        if (o.SlidingExpiration is { } sliding)
        {
            Positive(sliding, "SlidingExpiration");
            if (sliding > o.Expiration)
            {
                errors.Add($"{prefix}.SlidingExpiration is {sliding}; it must not exceed Expiration ({o.Expiration}).");
            }
        }

        if (o.ExpirationJitter is { } jitter && (jitter < TimeSpan.Zero || jitter > o.Expiration))
        {
            errors.Add($"{prefix}.ExpirationJitter is {jitter}; it must be between zero and Expiration ({o.Expiration}).");
        }

        if (o.DistributedExpiration is { } l2)
        {
            Positive(l2, "DistributedExpiration");
        }

        if (o.MaxDistributedValueBytes < 1)
        {
            errors.Add($"{prefix}.MaxDistributedValueBytes is {o.MaxDistributedValueBytes}; it must be at least 1.");
        }

        Timer(o.DistributedTimeout, "DistributedTimeout");
        Positive(o.DistributedCircuitBreakDuration, "DistributedCircuitBreakDuration");
        Timer(o.LoadTimeout, "LoadTimeout");
        Timer(o.StoreWriteTimeout, "StoreWriteTimeout");

        WriteBackOptions w = o.WriteBackOptions;
        Timer(w.FlushInterval, "WriteBack.FlushInterval");
        Timer(w.RetryBaseDelay, "WriteBack.RetryBaseDelay");
        Timer(w.StoreTimeout, "WriteBack.StoreTimeout");
        Timer(w.ShutdownTimeout, "WriteBack.ShutdownTimeout");
        if (w.RetryMaxDelay > MaxTimer)
        {
            errors.Add($"{prefix}.WriteBack.RetryMaxDelay is {w.RetryMaxDelay}; it must be at most {MaxTimer} (the longest timer .NET supports).");
        }

        if (w.RetryMaxDelay < w.RetryBaseDelay)
        {
            errors.Add($"{prefix}.WriteBack.RetryMaxDelay is {w.RetryMaxDelay}; it must be at least RetryBaseDelay ({w.RetryBaseDelay}).");
        }

        if (w.MaxBatchSize < 1)
        {
            errors.Add($"{prefix}.WriteBack.MaxBatchSize is {w.MaxBatchSize}; it must be at least 1.");
        }

        if (w.BufferCapacity < w.MaxBatchSize)
        {
            errors.Add($"{prefix}.WriteBack.BufferCapacity is {w.BufferCapacity}; it must be at least MaxBatchSize ({w.MaxBatchSize}).");
        }

        if (w.MaxAttempts < 1)
        {
            errors.Add($"{prefix}.WriteBack.MaxAttempts is {w.MaxAttempts}; it must be at least 1.");
        }

        if (!Enum.IsDefined(w.WhenFull))
        {
            errors.Add($"{prefix}.WriteBack.WhenFull is {(int)w.WhenFull}; it must be Wait or Fail.");
        }

        return errors;
    }
}
