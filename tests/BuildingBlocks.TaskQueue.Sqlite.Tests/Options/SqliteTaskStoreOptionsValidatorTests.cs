using BuildingBlocks.Testing;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Options;

public sealed class SqliteTaskStoreOptionsValidatorTests
{
    private static readonly SqliteTaskStoreOptionsValidator Validator = new();

    public static TheoryData<string?, string?, double, string> InvalidOptions => new()
    {
        { null, null, 30, "SqliteTaskStoreOptions.DataSource is null; it must be set to the database file path (or set ConnectionString instead)." },
        { "   ", null, 30, "SqliteTaskStoreOptions.DataSource is '   '; it must not be blank." },
        { ":memory:", null, 30, "SqliteTaskStoreOptions.DataSource is ':memory:'; it must be a file path, not an in-memory database" },
        { "tasks.db", "Data Source=other.db", 30, "SqliteTaskStoreOptions.ConnectionString is set and DataSource is 'tasks.db'; exactly one of the two must be set." },
        { null, "Data Source=tasks.db;Mode=ReadOnly", 30, "SqliteTaskStoreOptions.ConnectionString has Mode ReadOnly; it must allow writes" },
        { null, "Data Source=tasks.db;Mode=Memory", 30, "SqliteTaskStoreOptions.ConnectionString has Data Source 'tasks.db' and Mode Memory; it must name a database file, not an in-memory database" },
        { null, "Mode=ReadWriteCreate", 30, "SqliteTaskStoreOptions.ConnectionString has Data Source ''; it must name a database file." },
        { null, "Data Source=tasks.db;Colour=blue", 30, "SqliteTaskStoreOptions.ConnectionString could not be parsed" },
        { "tasks.db", null, 0, "SqliteTaskStoreOptions.BusyTimeout is 00:00:00; it must be positive and at most 24.20:31:23.6470000." },
        { "tasks.db", null, -1, "SqliteTaskStoreOptions.BusyTimeout is -00:00:01; it must be positive" },
        { "tasks.db", null, 3_000_000, "SqliteTaskStoreOptions.BusyTimeout is 34.17:20:00; it must be positive and at most 24.20:31:23.6470000." },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_InvalidOptions_FailWithAMessageNamingTheOptionValueAndRule(string? dataSource, string? connectionString, double busyTimeoutSeconds, string expected)
    {
        var options = new SqliteTaskStoreOptions { DataSource = dataSource, ConnectionString = connectionString, BusyTimeout = TimeSpan.FromSeconds(busyTimeoutSeconds) };

        ValidateOptionsResult result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UndefinedSynchronousMode_FailsNamingTheValue()
    {
        ValidateOptionsResult result = Validator.Validate(null, new SqliteTaskStoreOptions { DataSource = "tasks.db", Synchronous = (SqliteSynchronous)3 });

        Assert.Equal("SqliteTaskStoreOptions.Synchronous is 3; it must be Normal or Full.", Assert.Single(result.Failures!));
    }

    [Fact]
    public void Defaults_AreThirtySecondsBusyTimeoutAndNormalSynchronous()
    {
        var options = new SqliteTaskStoreOptions();

        Assert.Equal(TimeSpan.FromSeconds(30), options.BusyTimeout);
        Assert.Equal(SqliteSynchronous.Normal, options.Synchronous);
        Assert.Null(options.DataSource);
        Assert.Null(options.ConnectionString);
    }

    [Fact]
    public void Validate_NamedOptions_PutTheNameInEveryMessage()
    {
        ValidateOptionsResult result = Validator.Validate("billing", new SqliteTaskStoreOptions { BusyTimeout = TimeSpan.Zero });

        Assert.Equal(2, result.Failures!.Count());
        Assert.All(result.Failures!, f => Assert.StartsWith("SqliteTaskStoreOptions['billing'].", f, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("tasks.db", null)]
    [InlineData("/var/lib/app/tasks.db", null)]
    [InlineData(null, "Data Source=tasks.db")]
    [InlineData(null, "Data Source=tasks.db;Mode=ReadWrite;Default Timeout=5")]
    public void Validate_ExactlyOneFileSource_Succeeds(string? dataSource, string? connectionString)
    {
        ValidateOptionsResult result = Validator.Validate(null, new SqliteTaskStoreOptions { DataSource = dataSource, ConnectionString = connectionString });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Constructor_WithInvalidOptions_ThrowsArgumentExceptionNamingTheOption()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new SqliteTaskStore(new SqliteTaskStoreOptions { DataSource = "" }, TimeProvider.System));

        Assert.Equal("options", error.ParamName);
        Assert.Contains("SqliteTaskStoreOptions.DataSource is ''; it must not be blank.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constructor_WithAConnectionString_UsesItsFile()
    {
        using var directory = new TempDirectory("bb-sqlite");
        string path = directory.File("from-connection-string.db");
        await using var store = new SqliteTaskStore(new SqliteTaskStoreOptions { ConnectionString = $"Data Source={path};Pooling=True" }, TimeProvider.System);

        Assert.Empty(await store.GetStatisticsAsync(TestContext.Current.CancellationToken));

        Assert.Equal(path, store.DatabasePath);
        Assert.True(File.Exists(path));
    }
}
