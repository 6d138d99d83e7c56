using Microsoft.Extensions.Options;

namespace BuildingBlocks.Caching.Sqlite.Tests.Options;

public sealed class SqliteJournalOptionsValidatorTests
{
    private static readonly SqliteJournalOptionsValidator Validator = new();

    public static TheoryData<string?, double, string> InvalidOptions => new()
    {
        { null, 30, "SqliteJournalOptions.Path is null; it must be set to the journal file's path." },
        { "", 30, "SqliteJournalOptions.Path is ''; it must not be blank." },
        { "   ", 30, "SqliteJournalOptions.Path is '   '; it must not be blank." },
        { ":memory:", 30, "SqliteJournalOptions.Path is ':memory:'; it must be a file path, not an in-memory database, because a journal exists to survive the process." },
        { "a\0b.db", 30, "SqliteJournalOptions.Path contains a NUL character; it must be a file path." },
        { "journal.db", 0, "SqliteJournalOptions.BusyTimeout is 00:00:00; it must be positive and at most 24.20:31:23.6470000." },
        { "journal.db", -1, "SqliteJournalOptions.BusyTimeout is -00:00:01; it must be positive and at most 24.20:31:23.6470000." },
        { "journal.db", 3_000_000, "SqliteJournalOptions.BusyTimeout is 34.17:20:00; it must be positive and at most 24.20:31:23.6470000." },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_InvalidOptions_FailWithAMessageNamingTheOptionValueAndRule(string? path, double busyTimeoutSeconds, string expected)
    {
        var options = new SqliteJournalOptions { Path = path, BusyTimeout = TimeSpan.FromSeconds(busyTimeoutSeconds) };

        ValidateOptionsResult result = Validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(expected, Assert.Single(result.Failures!));
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Constructor_InvalidOptions_ThrowsArgumentExceptionWithTheSameMessage(string? path, double busyTimeoutSeconds, string expected)
    {
        var options = new SqliteJournalOptions { Path = path, BusyTimeout = TimeSpan.FromSeconds(busyTimeoutSeconds) };

        ArgumentException error = Assert.Throws<ArgumentException>(() => new SqliteWriteBackJournal(options));

        Assert.Equal("options", error.ParamName);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEach()
    {
        ValidateOptionsResult result = Validator.Validate(null, new SqliteJournalOptions { BusyTimeout = TimeSpan.Zero });

        Assert.Equal(2, result.Failures!.Count());
    }

    [Fact]
    public void Validate_NamedOptions_PutTheNameInEveryMessage()
    {
        ValidateOptionsResult result = Validator.Validate("billing", new SqliteJournalOptions { BusyTimeout = TimeSpan.Zero });

        Assert.All(result.Failures!, f => Assert.StartsWith("SqliteJournalOptions['billing'].", f, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_AFilePathAndThePositiveMaximumTimeout_Succeed()
    {
        Assert.True(Validator.Validate(null, new SqliteJournalOptions { Path = "journal.db", BusyTimeout = SqliteJournalOptionsValidator.MaxBusyTimeout }).Succeeded);
    }

    [Fact]
    public void Defaults_AreNoPathAndThirtySecondsBusyTimeout()
    {
        var options = new SqliteJournalOptions();

        Assert.Null(options.Path);
        Assert.Equal(TimeSpan.FromSeconds(30), options.BusyTimeout);
    }

    [Fact]
    public void Constructor_ResolvesARelativePathAgainstTheCurrentDirectory()
    {
        using var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = "relative-journal.db" });

        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "relative-journal.db"), journal.DatabasePath);
    }
}
