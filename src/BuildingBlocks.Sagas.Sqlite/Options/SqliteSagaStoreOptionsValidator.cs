using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>Checks <see cref="SqliteSagaStoreOptions"/>; every message names the option, its value and the rule.</summary>
public sealed class SqliteSagaStoreOptionsValidator : IValidateOptions<SqliteSagaStoreOptions>
{
    /// <summary>The longest <see cref="SqliteSagaStoreOptions.BusyTimeout"/> SQLite accepts (<c>int.MaxValue</c> milliseconds).</summary>
    public static readonly TimeSpan MaxBusyTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>The largest <see cref="SqliteSagaStoreOptions.MaxWritesPerTransaction"/>.</summary>
    public const int MaxWritesPerTransactionLimit = 10_000;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SqliteSagaStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        string prefix = string.IsNullOrEmpty(name) ? nameof(SqliteSagaStoreOptions) : $"{nameof(SqliteSagaStoreOptions)}['{name}']";

        if (options.ConnectionString is null)
        {
            if (options.DataSource is null)
            {
                failures.Add($"{prefix}.DataSource is null; it must be set to the database file path (or set ConnectionString instead).");
            }
            else if (string.IsNullOrWhiteSpace(options.DataSource))
            {
                failures.Add($"{prefix}.DataSource is '{options.DataSource}'; it must not be blank.");
            }
            else if (IsInMemory(options.DataSource))
            {
                failures.Add($"{prefix}.DataSource is '{options.DataSource}'; it must be a file path, not an in-memory database, because the store's connections share one file.");
            }
        }
        else if (options.DataSource is not null)
        {
            failures.Add($"{prefix}.ConnectionString is set and DataSource is '{options.DataSource}'; exactly one of the two must be set.");
        }
        else
        {
            ValidateConnectionString(prefix, options.ConnectionString, failures);
        }

        if (options.BusyTimeout <= TimeSpan.Zero || options.BusyTimeout > MaxBusyTimeout)
        {
            failures.Add($"{prefix}.BusyTimeout is {options.BusyTimeout}; it must be positive and at most {MaxBusyTimeout}.");
        }

        if (!Enum.IsDefined(options.Synchronous))
        {
            failures.Add($"{prefix}.Synchronous is {(int)options.Synchronous}; it must be Normal or Full.");
        }

        if (options.MaxWritesPerTransaction is < 1 or > MaxWritesPerTransactionLimit)
        {
            failures.Add($"{prefix}.MaxWritesPerTransaction is {options.MaxWritesPerTransaction}; it must be between 1 and {MaxWritesPerTransactionLimit}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateConnectionString(string prefix, string connectionString, List<string> failures)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            failures.Add($"{prefix}.ConnectionString could not be parsed ({ex.Message}); it must be a Microsoft.Data.Sqlite connection string.");
            return;
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource))
        {
            failures.Add($"{prefix}.ConnectionString has Data Source '{builder.DataSource}'; it must name a database file.");
        }
        else if (IsInMemory(builder.DataSource) || builder.Mode == SqliteOpenMode.Memory)
        {
            failures.Add($"{prefix}.ConnectionString has Data Source '{builder.DataSource}' and Mode {builder.Mode}; it must name a database file, not an in-memory database, because the store's connections share one file.");
        }

        if (builder.Mode == SqliteOpenMode.ReadOnly)
        {
            failures.Add($"{prefix}.ConnectionString has Mode ReadOnly; it must allow writes (ReadWrite or ReadWriteCreate).");
        }
    }

    private static bool IsInMemory(string dataSource) =>
        dataSource.Trim().Equals(":memory:", StringComparison.OrdinalIgnoreCase);
}
