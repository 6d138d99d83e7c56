using Microsoft.Extensions.Options;

namespace BuildingBlocks.TaskQueue.Tests.Options;

public sealed class TaskQueueOptionsValidatorTests
{
    private static ValidateOptionsResult Validate(TaskQueueOptions options, string? name = null) =>
        new TaskQueueOptionsValidator().Validate(name, options);

    [Fact]
    public void Validate_DefaultOptions_Succeed()
    {
        Assert.True(Validate(new TaskQueueOptions()).Succeeded);
    }

    [Fact]
    public void Validate_ValuesAtEveryBound_Succeed()
    {
        var options = new TaskQueueOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(1),
            HeartbeatInterval = TimeSpan.FromTicks(1),
            PollInterval = TimeSpan.FromTicks(1),
            SweepInterval = TimeSpan.FromTicks(1),
            DefaultMaxAttempts = 1,
            RetryBaseDelay = TimeSpan.Zero,
            RetryMaxDelay = TimeSpan.Zero,
            RetryJitter = 0,
            ShutdownTimeout = TimeSpan.Zero,
            CompletedRetention = TimeSpan.Zero,
            DeadLetterRetention = TimeSpan.Zero,
            MaxPayloadBytes = 1,
            WorkerId = "w",
        };
        Assert.True(Validate(options).Succeeded);

        options.DefaultMaxAttempts = 1000;
        options.RetryJitter = 1;
        options.MaxPayloadBytes = 1 << 30;
        options.WorkerId = new string('w', 200);
        options.RetryMaxDelay = options.RetryBaseDelay = TimeSpan.FromMinutes(1);
        Assert.True(Validate(options).Succeeded);
    }

    /// <summary>Breaks one option; returns how the message shows the bad value.</summary>
    private static string Break(TaskQueueOptions options, string option)
    {
        switch (option)
        {
            case "LeaseDuration":
                options.LeaseDuration = TimeSpan.FromMilliseconds(999);
                options.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
                return "00:00:00.9990000";
            case "HeartbeatInterval":
                options.HeartbeatInterval = TimeSpan.Zero;
                return "00:00:00";
            case "PollInterval":
                options.PollInterval = TimeSpan.Zero;
                return "00:00:00";
            case "SweepInterval":
                options.SweepInterval = TimeSpan.FromSeconds(-1);
                return "-00:00:01";
            case "DefaultMaxAttempts":
                options.DefaultMaxAttempts = 1001;
                return "1001";
            case "RetryBaseDelay":
                options.RetryBaseDelay = TimeSpan.FromSeconds(-2);
                return "-00:00:02";
            case "RetryMaxDelay":
                options.RetryBaseDelay = TimeSpan.FromMinutes(5);
                options.RetryMaxDelay = TimeSpan.FromMinutes(1);
                return "00:01:00";
            case "RetryJitter":
                options.RetryJitter = 1.5;
                return "1.5";
            case "ShutdownTimeout":
                options.ShutdownTimeout = TimeSpan.FromSeconds(-3);
                return "-00:00:03";
            case "CompletedRetention":
                options.CompletedRetention = TimeSpan.FromDays(-1);
                return "-1.00:00:00";
            case "DeadLetterRetention":
                options.DeadLetterRetention = TimeSpan.FromDays(-2);
                return "-2.00:00:00";
            case "MaxPayloadBytes":
                options.MaxPayloadBytes = 0;
                return "0";
            case "SerializerOptions":
                options.SerializerOptions = null!;
                return "null";
            case "WorkerId":
                options.WorkerId = "   ";
                return "'   '";
            default:
                throw new ArgumentOutOfRangeException(nameof(option), option, "Unknown option.");
        }
    }

    [Theory]
    [InlineData("LeaseDuration", "must be between 00:00:01 and 1.00:00:00")]
    [InlineData("HeartbeatInterval", "must be positive")]
    [InlineData("PollInterval", "must be positive and at most 01:00:00")]
    [InlineData("SweepInterval", "must be positive and at most 01:00:00")]
    [InlineData("DefaultMaxAttempts", "must be between 1 and 1000")]
    [InlineData("RetryBaseDelay", "must not be negative")]
    [InlineData("RetryMaxDelay", "must be at least RetryBaseDelay (00:05:00)")]
    [InlineData("RetryJitter", "must be between 0 and 1")]
    [InlineData("ShutdownTimeout", "must be between 00:00:00 and 01:00:00")]
    [InlineData("CompletedRetention", "must be between 00:00:00 and 3650.00:00:00")]
    [InlineData("DeadLetterRetention", "must be between 00:00:00 and 3650.00:00:00")]
    [InlineData("MaxPayloadBytes", "must be between 1 and 1073741824 (1 GiB)")]
    [InlineData("SerializerOptions", "must be set")]
    [InlineData("WorkerId", "must be 1 to 200 characters and not blank")]
    public void Validate_OneBadOption_FailsWithAMessageNamingTheOptionValueAndRule(string option, string rule)
    {
        var options = new TaskQueueOptions();
        string value = Break(options, option);

        ValidateOptionsResult result = Validate(options);

        Assert.True(result.Failed);
        string failure = Assert.Single(result.Failures!);
        Assert.Equal($"TaskQueueOptions.{option} is {value}; it {rule}.", failure);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void Validate_RetryJitterOutsideZeroToOne_Fails(double jitter)
    {
        Assert.True(Validate(new TaskQueueOptions { RetryJitter = jitter }).Failed);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData((1 << 30) + 1)]
    public void Validate_MaxPayloadBytesOutOfRange_Fails(int bytes)
    {
        Assert.True(Validate(new TaskQueueOptions { MaxPayloadBytes = bytes }).Failed);
    }

    [Fact]
    public void Validate_WorkerIdLongerThan200Characters_Fails()
    {
        Assert.True(Validate(new TaskQueueOptions { WorkerId = new string('w', 201) }).Failed);
        Assert.True(Validate(new TaskQueueOptions { WorkerId = null! }).Failed);
        Assert.True(Validate(new TaskQueueOptions { WorkerId = "" }).Failed);
    }

    [Theory]
    [InlineData(30, 30)]
    [InlineData(30, 31)]
    [InlineData(5, 60)]
    public void Validate_HeartbeatIntervalNotBelowLeaseDuration_Fails(int leaseSeconds, int heartbeatSeconds)
    {
        var options = new TaskQueueOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(leaseSeconds),
            HeartbeatInterval = TimeSpan.FromSeconds(heartbeatSeconds),
        };

        ValidateOptionsResult result = Validate(options);

        string failure = Assert.Single(result.Failures!);
        Assert.StartsWith($"TaskQueueOptions.HeartbeatInterval is {TimeSpan.FromSeconds(heartbeatSeconds)}", failure, StringComparison.Ordinal);
        Assert.Contains($"must be less than LeaseDuration ({TimeSpan.FromSeconds(leaseSeconds)})", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HeartbeatJustBelowLease_Succeeds()
    {
        var options = new TaskQueueOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(30),
            HeartbeatInterval = TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1),
        };

        Assert.True(Validate(options).Succeeded);
    }

    [Fact]
    public void Validate_NamedOptions_PutTheNameInTheMessage()
    {
        ValidateOptionsResult result = Validate(new TaskQueueOptions { DefaultMaxAttempts = 0 }, "billing");

        Assert.Equal("TaskQueueOptions['billing'].DefaultMaxAttempts is 0; it must be between 1 and 1000.", Assert.Single(result.Failures!));
    }

    [Fact]
    public void Validate_SeveralBadOptions_ReportsEveryOne()
    {
        var options = new TaskQueueOptions { PollInterval = TimeSpan.Zero, RetryJitter = 2, MaxPayloadBytes = 0 };

        ValidateOptionsResult result = Validate(options);

        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains("PollInterval", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("RetryJitter", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("MaxPayloadBytes", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NullOptions_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new TaskQueueOptionsValidator().Validate(null, null!));
    }

    [Fact]
    public void Validate_DurationsSoLargeThatAddingThemToNowWouldOverflow_AreRejected()
    {
        var options = new TaskQueueOptions
        {
            LeaseDuration = TimeSpan.MaxValue,
            RetryMaxDelay = TimeSpan.MaxValue,
            PollInterval = TimeSpan.MaxValue,
            SweepInterval = TimeSpan.MaxValue,
            ShutdownTimeout = TimeSpan.MaxValue,
            CompletedRetention = TimeSpan.MaxValue,
            DeadLetterRetention = TimeSpan.MaxValue,
        };

        ValidateOptionsResult result = Validate(options);

        Assert.True(result.Failed);
        foreach (string option in new[] { "LeaseDuration", "RetryMaxDelay", "PollInterval", "SweepInterval", "ShutdownTimeout", "CompletedRetention", "DeadLetterRetention" })
        {
            Assert.Contains(result.Failures!, f => f.StartsWith($"TaskQueueOptions.{option} is {TimeSpan.MaxValue}", StringComparison.Ordinal));
        }
    }
}
