using Microsoft.Extensions.Options;

namespace BuildingBlocks.Caching.Sqlite;

/// <summary>Checks <see cref="SqliteJournalOptions"/>; every message names the option, its value and the rule.</summary>
public sealed class SqliteJournalOptionsValidator : IValidateOptions<SqliteJournalOptions>
{
    /// <summary>The longest <see cref="SqliteJournalOptions.BusyTimeout"/> SQLite accepts (<c>int.MaxValue</c> milliseconds).</summary>
    public static readonly TimeSpan MaxBusyTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SqliteJournalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        string prefix = string.IsNullOrEmpty(name) ? "SqliteJournalOptions" : $"SqliteJournalOptions['{name}']";

        if (options.Path is null)
        {
            failures.Add($"{prefix}.Path is null; it must be set to the journal file's path.");
        }
        else if (string.IsNullOrWhiteSpace(options.Path))
        {
            failures.Add($"{prefix}.Path is '{options.Path}'; it must not be blank.");
        }
        else if (options.Path.Trim().Equals(":memory:", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{prefix}.Path is '{options.Path}'; it must be a file path, not an in-memory database, because a journal exists to survive the process.");
        }
        else if (options.Path.Contains('\0', StringComparison.Ordinal))
        {
            failures.Add($"{prefix}.Path contains a NUL character; it must be a file path.");
        }

        if (options.BusyTimeout <= TimeSpan.Zero || options.BusyTimeout > MaxBusyTimeout)
        {
            failures.Add($"{prefix}.BusyTimeout is {options.BusyTimeout}; it must be positive and at most {MaxBusyTimeout}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
