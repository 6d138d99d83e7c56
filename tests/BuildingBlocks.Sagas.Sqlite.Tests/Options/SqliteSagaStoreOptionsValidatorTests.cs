using Microsoft.Extensions.Options;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Options;

public sealed class SqliteSagaStoreOptionsValidatorTests
{
    private static readonly SqliteSagaStoreOptionsValidator Validator = new();

    public static TheoryData<string?, string?, double, string> InvalidOptions => new()
    {
        { null, null, 30, "SqliteSagaStoreOptions.DataSource is null; it must be set to the database file path (or set ConnectionString instead)." },
        { "   ", null, 30, "SqliteSagaStoreOptions.DataSource is '   '; it must not be blank." },
        { ":memory:", null, 30, "SqliteSagaStoreOptions.DataSource is ':memory:'; it must be a file path, not an in-memory database" },
        { "sagas.db", "Data Source=other.db", 30, "SqliteSagaStoreOptions.ConnectionString is set and DataSource is 'sagas.db'; exactly one of the two must be set." },
        { null, "Data Source=sagas.db;Mode=ReadOnly", 30, "SqliteSagaStoreOptions.ConnectionString has Mode ReadOnly; it must allow writes" },
        { null, "Data Source=sagas.db;Mode=Memory", 30, "SqliteSagaStoreOptions.ConnectionString has Data Source 'sagas.db' and Mode Memory; it must name a database file, not an in-memory database" },
        { null, "Data Source=:memory:", 30, "SqliteSagaStoreOptions.ConnectionString has Data Source ':memory:' and Mode ReadWriteCreate; it must name a database file" },
        { null, "Mode=ReadWriteCreate", 30, "SqliteSagaStoreOptions.ConnectionString has Data Source ''; it must name a database file." },
        { null, "Data Source=sagas.db;Colour=blue", 30, "SqliteSagaStoreOptions.ConnectionString could not be parsed" },
        { "sagas.db", null, 0, "SqliteSagaStoreOptions.BusyTimeout is 00:00:00; it must be positive and at most 24.20:31:23.6470000." },
        { "sagas.db", null, -1, "SqliteSagaStoreOptions.BusyTimeout is -00:00:01; it must be positive" },
        { "sagas.db", null, 3_000_000, "SqliteSagaStoreOptions.BusyTimeout is 34.17:20:00; it must be positive and at most 24.20:31:23.6470000." },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_InvalidOptions_FailWithAMessageNamingTheOptionValueAndRule(string? dataSource, string? connectionString, double busyTimeoutSeconds, string expected)
    {
        var options = new SqliteSagaStoreOptions { DataSource = dataSource, ConnectionString = connectionString, BusyTimeout = TimeSpan.FromSeconds(busyTimeoutSeconds) };

        ValidateOptionsResult result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UndefinedSynchronousMode_FailsNamingTheValue()
    {
        ValidateOptionsResult result = Validator.Validate(null, new SqliteSagaStoreOptions { DataSource = "sagas.db", Synchronous = (SqliteSagaSynchronous)0 });

        Assert.Equal("SqliteSagaStoreOptions.Synchronous is 0; it must be Normal or Full.", Assert.Single(result.Failures!));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(10_001)]
    public void Validate_MaxWritesPerTransactionOutOfRange_FailsNamingTheValueAndRange(int value)
    {
        ValidateOptionsResult result = Validator.Validate(null, new SqliteSagaStoreOptions { DataSource = "sagas.db", MaxWritesPerTransaction = value });

        Assert.Equal($"SqliteSagaStoreOptions.MaxWritesPerTransaction is {value}; it must be between 1 and 10000.", Assert.Single(result.Failures!));
    }

    [Fact]
    public void Defaults_AreDurableCommitsThirtySecondsBusyTimeoutAndGroupsOf256()
    {
        var options = new SqliteSagaStoreOptions();

        Assert.Equal(SqliteSagaSynchronous.Full, options.Synchronous);
        Assert.Equal(TimeSpan.FromSeconds(30), options.BusyTimeout);
        Assert.Equal(256, options.MaxWritesPerTransaction);
        Assert.Null(options.DataSource);
        Assert.Null(options.ConnectionString);
    }

    [Fact]
    public void Validate_EveryFailure_IsReportedAtOnce_AndNamedOptionsPutTheNameInEveryMessage()
    {
        ValidateOptionsResult result = Validator.Validate(
            "billing",
            new SqliteSagaStoreOptions { BusyTimeout = TimeSpan.Zero, Synchronous = (SqliteSagaSynchronous)9, MaxWritesPerTransaction = 0 });

        Assert.Equal(4, result.Failures!.Count());
        Assert.All(result.Failures!, f => Assert.StartsWith("SqliteSagaStoreOptions['billing'].", f, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("sagas.db", null)]
    [InlineData("/var/lib/app/sagas.db", null)]
    [InlineData(null, "Data Source=sagas.db")]
    [InlineData(null, "Data Source=sagas.db;Mode=ReadWrite;Default Timeout=5")]
    public void Validate_ExactlyOneFileSource_Succeeds(string? dataSource, string? connectionString)
    {
        ValidateOptionsResult result = Validator.Validate(null, new SqliteSagaStoreOptions { DataSource = dataSource, ConnectionString = connectionString });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Constructor_WithInvalidOptions_ThrowsArgumentExceptionNamingTheOption()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = "" }, TimeProvider.System));

        Assert.Equal("options", error.ParamName);
        Assert.Contains("SqliteSagaStoreOptions.DataSource is ''; it must not be blank.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new SqliteSagaStore(null!, TimeProvider.System));
        Assert.Throws<ArgumentNullException>(() => new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = "sagas.db" }, null!));
    }

    [Fact]
    public void Constructor_RelativeDataSource_IsResolvedToAnAbsolutePath()
    {
        using var store = new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = "relative-sagas.db" });

        Assert.Equal(Path.GetFullPath("relative-sagas.db"), store.DatabasePath);
        Assert.False(File.Exists(store.DatabasePath), "Nothing is opened until the first call.");
    }
}
