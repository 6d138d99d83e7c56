using StackExchange.Redis;

namespace BuildingBlocks.Caching.Redis.Tests.Options;

/// <summary>Every rule, with a message that names the option, its value and the rule.</summary>
public sealed class RedisBackplaneOptionsValidatorTests
{
    private static readonly Func<Task<IConnectionMultiplexer>> Factory = () => Task.FromException<IConnectionMultiplexer>(new InvalidOperationException("not called"));

    [Fact]
    public void Validate_Defaults_WithAConfiguration_Succeed()
    {
        var options = new RedisBackplaneOptions { Configuration = "localhost:6379" };

        Assert.True(new RedisBackplaneOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal("buildingblocks:cache", options.ChannelPrefix);
    }

    [Fact]
    public void Validate_WithAFactoryInstead_Succeeds()
    {
        var options = new RedisBackplaneOptions { ConnectionMultiplexerFactory = Factory };

        Assert.True(new RedisBackplaneOptionsValidator().Validate(null, options).Succeeded);
    }

    public static TheoryData<string?, bool, string, string> Invalid() => new()
    {
        { null, false, "ConnectionMultiplexerFactory", "RedisBackplaneOptions.Configuration is empty and ConnectionMultiplexerFactory is null" },
        { "   ", false, "ConnectionMultiplexerFactory", "RedisBackplaneOptions.Configuration is empty" },
        { "localhost:6379", true, "not both", "RedisBackplaneOptions: set Configuration or ConnectionMultiplexerFactory, not both." },
        { "localhost:6379,noSuchOption=1", false, "noSuchOption", "RedisBackplaneOptions.Configuration is not a valid StackExchange.Redis configuration string" },
        { "password=secret,ssl=true", false, "password=*****", "RedisBackplaneOptions.Configuration is 'password=*****,ssl=true'; it names no endpoint" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_ConnectionChoice_FailsWithAMessageNamingTheOption(string? configuration, bool factory, string detail, string expected)
    {
        var options = new RedisBackplaneOptions { Configuration = configuration, ConnectionMultiplexerFactory = factory ? Factory : null };

        var result = new RedisBackplaneOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(detail, result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Validate_BlankChannelPrefix_Fails(string prefix)
    {
        var options = new RedisBackplaneOptions { Configuration = "localhost", ChannelPrefix = prefix };

        var result = new RedisBackplaneOptionsValidator().Validate(null, options);

        Assert.Equal($"RedisBackplaneOptions.ChannelPrefix is '{prefix}'; it must not be empty or blank (default 'buildingblocks:cache').", Assert.Single(result.Failures!));
    }

    [Fact]
    public void Validate_TooLongChannelPrefix_Fails()
    {
        var options = new RedisBackplaneOptions { Configuration = "localhost", ChannelPrefix = new string('p', 201) };

        var result = new RedisBackplaneOptionsValidator().Validate(null, options);

        Assert.Equal("RedisBackplaneOptions.ChannelPrefix is 201 characters long; it must be at most 200.", Assert.Single(result.Failures!));
        Assert.True(new RedisBackplaneOptionsValidator().Validate(null, new RedisBackplaneOptions { Configuration = "localhost", ChannelPrefix = new string('p', 200) }).Succeeded);
    }

    [Fact]
    public void Validate_NamedOptions_NameTheInstance_AndReportEveryFailure()
    {
        var options = new RedisBackplaneOptions { ChannelPrefix = " " };

        var result = new RedisBackplaneOptionsValidator().Validate("eu", options);

        Assert.Equal(2, result.Failures!.Count());
        Assert.All(result.Failures!, f => Assert.StartsWith("RedisBackplaneOptions['eu']", f, StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsWithTheValidationMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisCacheBackplane(new RedisBackplaneOptions { Configuration = "localhost", ChannelPrefix = "" }));

        Assert.Contains("RedisBackplaneOptions.ChannelPrefix is ''", error.Message, StringComparison.Ordinal);
        Assert.Equal("options", error.ParamName);
    }

    [Fact]
    public async Task Constructor_CopiesTheOptions_SoLaterChangesDoNotApply()
    {
        var options = new RedisBackplaneOptions { Configuration = "localhost", ChannelPrefix = "first" };
        await using var backplane = new RedisCacheBackplane(options);

        options.ChannelPrefix = "second";

        Assert.Equal("first:invalidations", backplane.Channel);
    }
}
