using Microsoft.Extensions.Options;

namespace BuildingBlocks.Sagas;

/// <summary>Checks <see cref="SagaOptions"/> at start-up; each message names the option, its value and the rule.</summary>
internal sealed class SagaOptionsValidator : IValidateOptions<SagaOptions>
{
    public ValidateOptionsResult Validate(string? name, SagaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        string? id = SagaBlueprint.NameProblem(options.CoordinatorId, "SagaOptions.CoordinatorId");
        if (id is not null)
        {
            failures.Add(id + ".");
        }

        Positive(failures, options.LeaseDuration, nameof(SagaOptions.LeaseDuration));
        Positive(failures, options.LeaseRenewalInterval, nameof(SagaOptions.LeaseRenewalInterval));
        Positive(failures, options.PollInterval, nameof(SagaOptions.PollInterval));
        if (options.ShutdownTimeout < TimeSpan.Zero || options.ShutdownTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"SagaOptions.ShutdownTimeout is {options.ShutdownTimeout}: it must be between 0 and 1 hour.");
        }

        if (options.LeaseRenewalInterval > TimeSpan.Zero && options.LeaseDuration > TimeSpan.Zero && options.LeaseRenewalInterval * 3 > options.LeaseDuration)
        {
            failures.Add($"SagaOptions.LeaseRenewalInterval ({options.LeaseRenewalInterval}) must be at most a third of SagaOptions.LeaseDuration ({options.LeaseDuration}), so a lease survives a missed renewal.");
        }

        if (options.MaxConcurrentSagas is < 1 or > 100_000)
        {
            failures.Add($"SagaOptions.MaxConcurrentSagas is {options.MaxConcurrentSagas}: it must be between 1 and 100000.");
        }

        if (options.MaxDataBytes is < 16 or > 64 * 1024 * 1024)
        {
            failures.Add($"SagaOptions.MaxDataBytes is {options.MaxDataBytes}: it must be between 16 and 67108864 (64 MiB).");
        }

        if (options.DefaultAttemptTimeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(365)))
        {
            failures.Add($"SagaOptions.DefaultAttemptTimeout is {timeout}: it must be positive and at most 365 days, or null for none.");
        }

        if (options.DefaultStepRetry is null)
        {
            failures.Add("SagaOptions.DefaultStepRetry is null: set a SagaRetryPolicy (MaxAttempts = 1 for no retry).");
        }
        else if (options.DefaultStepRetry.Problem("SagaOptions.DefaultStepRetry") is { } stepProblem)
        {
            failures.Add(stepProblem);
        }

        if (options.DefaultCompensationRetry is null)
        {
            failures.Add("SagaOptions.DefaultCompensationRetry is null: set a SagaRetryPolicy.");
        }
        else if (options.DefaultCompensationRetry.Problem("SagaOptions.DefaultCompensationRetry") is { } compensationProblem)
        {
            failures.Add(compensationProblem);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, TimeSpan value, string option)
    {
        if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
        {
            failures.Add($"SagaOptions.{option} is {value}: it must be positive and at most one day.");
        }
    }
}
