using Microsoft.Extensions.Options;

namespace BuildingBlocks.TaskQueue;

/// <summary>Checks <see cref="TaskQueueOptions"/>; every message names the option, its value and the rule.</summary>
public sealed class TaskQueueOptionsValidator : IValidateOptions<TaskQueueOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TaskQueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        string prefix = string.IsNullOrEmpty(name) ? "TaskQueueOptions" : $"TaskQueueOptions['{name}']";

        void Require(bool ok, string option, object? value, string rule)
        {
            if (!ok)
            {
                failures.Add($"{prefix}.{option} is {value}; it {rule}.");
            }
        }

        Require(options.LeaseDuration >= TimeSpan.FromSeconds(1) && options.LeaseDuration <= TimeSpan.FromDays(1), nameof(options.LeaseDuration), options.LeaseDuration, "must be between 00:00:01 and 1.00:00:00");
        Require(options.HeartbeatInterval > TimeSpan.Zero, nameof(options.HeartbeatInterval), options.HeartbeatInterval, "must be positive");
        Require(options.HeartbeatInterval < options.LeaseDuration, nameof(options.HeartbeatInterval), options.HeartbeatInterval, $"must be less than LeaseDuration ({options.LeaseDuration}) so a lease is extended before it expires");
        Require(options.PollInterval > TimeSpan.Zero && options.PollInterval <= TimeSpan.FromHours(1), nameof(options.PollInterval), options.PollInterval, "must be positive and at most 01:00:00");
        Require(options.SweepInterval > TimeSpan.Zero && options.SweepInterval <= TimeSpan.FromHours(1), nameof(options.SweepInterval), options.SweepInterval, "must be positive and at most 01:00:00");
        Require(options.DefaultMaxAttempts is >= 1 and <= 1000, nameof(options.DefaultMaxAttempts), options.DefaultMaxAttempts, "must be between 1 and 1000");
        Require(options.RetryBaseDelay >= TimeSpan.Zero, nameof(options.RetryBaseDelay), options.RetryBaseDelay, "must not be negative");
        Require(options.RetryMaxDelay >= options.RetryBaseDelay, nameof(options.RetryMaxDelay), options.RetryMaxDelay, $"must be at least RetryBaseDelay ({options.RetryBaseDelay})");
        Require(options.RetryMaxDelay <= TimeSpan.FromDays(365), nameof(options.RetryMaxDelay), options.RetryMaxDelay, "must be at most 365.00:00:00");
        Require(options.RetryJitter is >= 0 and <= 1, nameof(options.RetryJitter), options.RetryJitter, "must be between 0 and 1");
        Require(options.ShutdownTimeout >= TimeSpan.Zero && options.ShutdownTimeout <= TimeSpan.FromHours(1), nameof(options.ShutdownTimeout), options.ShutdownTimeout, "must be between 00:00:00 and 01:00:00");
        Require(options.CompletedRetention >= TimeSpan.Zero && options.CompletedRetention <= TimeSpan.FromDays(3650), nameof(options.CompletedRetention), options.CompletedRetention, "must be between 00:00:00 and 3650.00:00:00");
        Require(options.DeadLetterRetention >= TimeSpan.Zero && options.DeadLetterRetention <= TimeSpan.FromDays(3650), nameof(options.DeadLetterRetention), options.DeadLetterRetention, "must be between 00:00:00 and 3650.00:00:00");
        Require(options.MaxPayloadBytes is >= 1 and <= 1 << 30, nameof(options.MaxPayloadBytes), options.MaxPayloadBytes, "must be between 1 and 1073741824 (1 GiB)");
        Require(options.SerializerOptions is not null, nameof(options.SerializerOptions), "null", "must be set");
        Require(!string.IsNullOrWhiteSpace(options.WorkerId) && options.WorkerId.Length <= 200, nameof(options.WorkerId), $"'{options.WorkerId}'", "must be 1 to 200 characters and not blank");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
