using Microsoft.Extensions.Options;

namespace BuildingBlocks.TaskQueue;

/// <summary>The handlers of one task queue registration (named options, filled by <c>AddHandler</c>).</summary>
internal sealed class TaskHandlerRegistry
{
    public List<TaskHandlerRegistration> Handlers { get; } = [];
}

/// <summary>Rejects two handlers for one queue and out-of-range handler options at start-up.</summary>
internal sealed class TaskHandlerRegistryValidator : IValidateOptions<TaskHandlerRegistry>
{
    public ValidateOptionsResult Validate(string? name, TaskHandlerRegistry options)
    {
        List<string> failures = [];
        foreach (IGrouping<string, TaskHandlerRegistration> duplicate in options.Handlers.GroupBy(h => h.Queue, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            failures.Add($"Queue '{duplicate.Key}' has {duplicate.Count()} handlers ({string.Join(", ", duplicate.Select(h => h.HandlerName))}); a queue has exactly one handler. Use one queue per task type.");
        }

        foreach (TaskHandlerRegistration handler in options.Handlers)
        {
            string prefix = $"QueueHandlerOptions of queue '{handler.Queue}'";
            QueueHandlerOptions o = handler.Options;
            if (o.Concurrency is < 1 or > 1000)
            {
                failures.Add($"{prefix}: Concurrency is {o.Concurrency}; it must be between 1 and 1000.");
            }

            if (o.Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(1)))
            {
                failures.Add($"{prefix}: Timeout is {timeout}; it must be positive and at most 1.00:00:00, or null for no limit.");
            }

            if (o.RetryBaseDelay is { } baseDelay && baseDelay < TimeSpan.Zero)
            {
                failures.Add($"{prefix}: RetryBaseDelay is {baseDelay}; it must not be negative.");
            }

            if (o.RetryMaxDelay is { } maxDelay && (maxDelay < (o.RetryBaseDelay ?? TimeSpan.Zero) || maxDelay > TimeSpan.FromDays(365)))
            {
                failures.Add($"{prefix}: RetryMaxDelay is {maxDelay}; it must be at least RetryBaseDelay ({o.RetryBaseDelay}) and at most 365.00:00:00.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
