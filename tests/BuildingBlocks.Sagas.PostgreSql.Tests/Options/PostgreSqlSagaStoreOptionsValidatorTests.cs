using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Options;

/// <summary>Every rule refuses with a message naming the option, its value and the rule.</summary>
public sealed class PostgreSqlSagaStoreOptionsValidatorTests
{
    private static readonly PostgreSqlSagaStoreOptionsValidator s_validator = new();

    [Fact]
    public void Defaults_WithAConnectionString_AreValid()
    {
        var options = new PostgreSqlSagaStoreOptions { ConnectionString = "Host=localhost" };

        Assert.True(s_validator.Validate(null, options).Succeeded);
        Assert.Equal(("sagas", true, TimeSpan.FromSeconds(30)), (options.Schema, options.MigrateSchema, options.CommandTimeout));
    }

    [Fact]
    public void NeitherConnectionStringNorDataSource_IsRefused()
    {
        string message = Fail(new PostgreSqlSagaStoreOptions { ConnectionString = " " });

        Assert.Contains("PostgreSqlSagaStoreOptions.ConnectionString is empty and DataSource is null", message, StringComparison.Ordinal);
    }

    [Fact]
    public void BothConnectionStringAndDataSource_AreRefused()
    {
        using NpgsqlDataSource dataSource = NpgsqlDataSource.Create("Host=localhost");

        string message = Fail(new PostgreSqlSagaStoreOptions { ConnectionString = "Host=localhost", DataSource = dataSource });

        Assert.Contains("set ConnectionString or DataSource, not both", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMalformedConnectionString_IsRefused()
    {
        string message = Fail(new PostgreSqlSagaStoreOptions { ConnectionString = "Hots=localhost;Nonsense" });

        Assert.Contains("PostgreSqlSagaStoreOptions.ConnectionString is not a valid Npgsql connection string", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "Schema is ''")]
    [InlineData("", "Schema is ''")]
    [InlineData("Sagas", "Schema is 'Sagas'; it must be a lower-case SQL identifier")]
    [InlineData("my-sagas", "Schema is 'my-sagas'; it must be a lower-case SQL identifier")]
    [InlineData("pg_temp", "Schema is 'pg_temp'; names starting with 'pg_' are reserved")]
    public void ABadSchema_IsRefused(string? schema, string expected)
    {
        string message = Fail(new PostgreSqlSagaStoreOptions { ConnectionString = "Host=localhost", Schema = schema! });

        Assert.Contains("PostgreSqlSagaStoreOptions." + expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASchemaOf63Characters_IsValid_64AreRefused()
    {
        Assert.True(s_validator.Validate(null, new PostgreSqlSagaStoreOptions { ConnectionString = "Host=localhost", Schema = new string('s', 63) }).Succeeded);
        Assert.Contains("at most 63 characters", Fail(new PostgreSqlSagaStoreOptions { ConnectionString = "Host=localhost", Schema = new string('s', 64) }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(999, "00:00:00.9990000")]
    [InlineData(3_600_001, "01:00:00.0010000")]
    public void ACommandTimeoutOutside1SecondTo1Hour_IsRefused(int milliseconds, string shown)
    {
        string message = Fail(new PostgreSqlSagaStoreOptions { ConnectionString = "Host=localhost", CommandTimeout = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.Contains($"PostgreSqlSagaStoreOptions.CommandTimeout is {shown}; it must be between 00:00:01 and 01:00:00", message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryFailure_IsReportedAtOnce_WithTheOptionsName()
    {
        var result = s_validator.Validate("orders", new PostgreSqlSagaStoreOptions { Schema = "X", CommandTimeout = TimeSpan.Zero });

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
        Assert.All(result.Failures!, f => Assert.StartsWith("PostgreSqlSagaStoreOptions['orders']", f, StringComparison.Ordinal));
    }

    [Fact]
    public void TheStoreConstructor_RefusesInvalidOptions_WithTheSameMessage()
    {
        var options = new PostgreSqlSagaStoreOptions { ConnectionString = "Host=localhost", CommandTimeout = TimeSpan.Zero };

        ArgumentException error = Assert.Throws<ArgumentException>(() => new PostgreSqlSagaStore(options));

        Assert.Contains("PostgreSqlSagaStoreOptions.CommandTimeout is 00:00:00", error.Message, StringComparison.Ordinal);
        Assert.Equal("options", error.ParamName);
    }

    private static string Fail(PostgreSqlSagaStoreOptions options)
    {
        var result = s_validator.Validate(null, options);
        Assert.True(result.Failed);
        return result.FailureMessage;
    }
}
