using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql;

/// <summary>Checks <see cref="PostgreSqlSagaStoreOptions"/> at start-up; every message names the option, its value and the rule.</summary>
public sealed partial class PostgreSqlSagaStoreOptionsValidator : IValidateOptions<PostgreSqlSagaStoreOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PostgreSqlSagaStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string prefix = string.IsNullOrEmpty(name) ? nameof(PostgreSqlSagaStoreOptions) : $"{nameof(PostgreSqlSagaStoreOptions)}['{name}']";
        List<string> failures = [];

        bool hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasConnectionString == (options.DataSource is not null))
        {
            failures.Add(hasConnectionString
                ? $"{prefix}: set ConnectionString or DataSource, not both."
                : $"{prefix}.ConnectionString is empty and DataSource is null; set one of them (for example \"Host=localhost;Username=app;Password=...;Database=app\").");
        }
        else if (hasConnectionString)
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException e)
            {
                failures.Add($"{prefix}.ConnectionString is not a valid Npgsql connection string: {e.Message}");
            }
        }

        if (options.Schema is null || !SchemaName().IsMatch(options.Schema))
        {
            failures.Add($"{prefix}.Schema is '{options.Schema}'; it must be a lower-case SQL identifier: a letter or '_', then letters, digits or '_', at most 63 characters.");
        }
        else if (options.Schema.StartsWith("pg_", StringComparison.Ordinal))
        {
            failures.Add($"{prefix}.Schema is '{options.Schema}'; names starting with 'pg_' are reserved by PostgreSQL for system schemas.");
        }

        if (options.CommandTimeout < TimeSpan.FromSeconds(1) || options.CommandTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"{prefix}.CommandTimeout is {options.CommandTimeout}; it must be between 00:00:01 and 01:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaName();
}
