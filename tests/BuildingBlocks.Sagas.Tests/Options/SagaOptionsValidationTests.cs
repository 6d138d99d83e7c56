using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.Sagas.Tests.Options;

public sealed class SagaOptionsValidationTests
{
    /// <summary>Breaks one option; returns the text the failure must contain.</summary>
    private static string Break(SagaOptions o, string option)
    {
        switch (option)
        {
            case "empty CoordinatorId":
                o.CoordinatorId = "";
                return "SagaOptions.CoordinatorId is empty.";
            case "long CoordinatorId":
                o.CoordinatorId = new string('c', 101);
                return "SagaOptions.CoordinatorId 'cccccccccccccccccccc…' is 101 characters long: at most 100.";
            case "control char CoordinatorId":
                o.CoordinatorId = "node\u00011";
                return "SagaOptions.CoordinatorId 'node\u00011' contains a control character.";
            case "zero LeaseDuration":
                o.LeaseDuration = TimeSpan.Zero;
                return "SagaOptions.LeaseDuration is 00:00:00: it must be positive and at most one day.";
            case "long LeaseDuration":
                o.LeaseDuration = TimeSpan.FromDays(2);
                return "SagaOptions.LeaseDuration is 2.00:00:00: it must be positive and at most one day.";
            case "zero LeaseRenewalInterval":
                o.LeaseRenewalInterval = TimeSpan.Zero;
                return "SagaOptions.LeaseRenewalInterval is 00:00:00: it must be positive and at most one day.";
            case "LeaseRenewalInterval over a third":
                o.LeaseDuration = TimeSpan.FromSeconds(9);
                o.LeaseRenewalInterval = TimeSpan.FromSeconds(3.5);
                return "SagaOptions.LeaseRenewalInterval (00:00:03.5000000) must be at most a third of SagaOptions.LeaseDuration (00:00:09)";
            case "negative PollInterval":
                o.PollInterval = TimeSpan.FromSeconds(-1);
                return "SagaOptions.PollInterval is -00:00:01: it must be positive and at most one day.";
            case "negative ShutdownTimeout":
                o.ShutdownTimeout = TimeSpan.FromSeconds(-1);
                return "SagaOptions.ShutdownTimeout is -00:00:01: it must be between 0 and 1 hour.";
            case "long ShutdownTimeout":
                o.ShutdownTimeout = TimeSpan.FromHours(2);
                return "SagaOptions.ShutdownTimeout is 02:00:00: it must be between 0 and 1 hour.";
            case "zero MaxConcurrentSagas":
                o.MaxConcurrentSagas = 0;
                return "SagaOptions.MaxConcurrentSagas is 0: it must be between 1 and 100000.";
            case "huge MaxConcurrentSagas":
                o.MaxConcurrentSagas = 100_001;
                return "SagaOptions.MaxConcurrentSagas is 100001";
            case "tiny MaxDataBytes":
                o.MaxDataBytes = 15;
                return "SagaOptions.MaxDataBytes is 15: it must be between 16 and 67108864 (64 MiB).";
            case "huge MaxDataBytes":
                o.MaxDataBytes = (64 * 1024 * 1024) + 1;
                return "SagaOptions.MaxDataBytes is 67108865";
            case "zero DefaultAttemptTimeout":
                o.DefaultAttemptTimeout = TimeSpan.Zero;
                return "SagaOptions.DefaultAttemptTimeout is 00:00:00: it must be positive and at most 365 days, or null for none.";
            case "null DefaultStepRetry":
                o.DefaultStepRetry = null!;
                return "SagaOptions.DefaultStepRetry is null";
            case "bad DefaultStepRetry":
                o.DefaultStepRetry = new SagaRetryPolicy { MaxAttempts = 0 };
                return "SagaOptions.DefaultStepRetry.MaxAttempts is 0: it must be at least 1 (1 = no retry).";
            case "null DefaultCompensationRetry":
                o.DefaultCompensationRetry = null!;
                return "SagaOptions.DefaultCompensationRetry is null";
            case "bad DefaultCompensationRetry":
                o.DefaultCompensationRetry = new SagaRetryPolicy { Jitter = 2 };
                return "SagaOptions.DefaultCompensationRetry.Jitter is 2: it must be between 0 and 1.";
            default:
                throw new ArgumentOutOfRangeException(nameof(option), option, null);
        }
    }

    public static TheoryData<string> BadOptions =>
    [
        "empty CoordinatorId", "long CoordinatorId", "control char CoordinatorId", "zero LeaseDuration", "long LeaseDuration",
        "zero LeaseRenewalInterval", "LeaseRenewalInterval over a third", "negative PollInterval", "negative ShutdownTimeout",
        "long ShutdownTimeout", "zero MaxConcurrentSagas", "huge MaxConcurrentSagas", "tiny MaxDataBytes", "huge MaxDataBytes",
        "zero DefaultAttemptTimeout", "null DefaultStepRetry", "bad DefaultStepRetry", "null DefaultCompensationRetry", "bad DefaultCompensationRetry",
    ];

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task BadOption_FailsTheHostStart_NamingTheOption(string option)
    {
        string expected = "";
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Start = false;
            b.Options(o => expected = Break(o, option));
            b.Saga("order", s => s.Step("a").Execute((_, _) => Task.CompletedTask));
        });

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(host.StartAsync);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(SagaOptions), error.OptionsType);
    }

    [Fact]
    public async Task ValuesAtTheBounds_StartTheHost()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Options(o =>
            {
                o.CoordinatorId = new string('c', 100);
                o.LeaseDuration = TimeSpan.FromDays(1);
                o.LeaseRenewalInterval = TimeSpan.FromHours(8);
                o.PollInterval = TimeSpan.FromDays(1);
                o.ShutdownTimeout = TimeSpan.Zero;
                o.MaxConcurrentSagas = 100_000;
                o.MaxDataBytes = 16;
                o.DefaultAttemptTimeout = null;
            });
            b.Saga("order", s => s.Step("a").Execute((_, _) => Task.CompletedTask));
        });

        Assert.Equal(new string('c', 100), host.CoordinatorId);
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes_AndValid()
    {
        SagaOptions o = new();

        Assert.True(o.RunCoordinator);
        Assert.Equal(TimeSpan.FromSeconds(15), o.LeaseDuration);
        Assert.Equal(TimeSpan.FromSeconds(4), o.LeaseRenewalInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), o.PollInterval);
        Assert.Equal(64, o.MaxConcurrentSagas);
        Assert.Equal(TimeSpan.FromSeconds(10), o.ShutdownTimeout);
        Assert.Equal(1, o.DefaultStepRetry.MaxAttempts);
        Assert.Equal(8, o.DefaultCompensationRetry.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), o.DefaultCompensationRetry.InitialDelay);
        Assert.Equal(TimeSpan.FromMinutes(1), o.DefaultCompensationRetry.MaxDelay);
        Assert.Equal(TimeSpan.FromMinutes(5), o.DefaultAttemptTimeout);
        Assert.Equal(1024 * 1024, o.MaxDataBytes);
        Assert.Null(o.JsonOptions);
        Assert.Contains($"/{Environment.ProcessId}/", o.CoordinatorId, StringComparison.Ordinal);
        Assert.NotEqual(o.CoordinatorId, new SagaOptions().CoordinatorId);
        Assert.True(new SagaOptionsValidator().Validate(null, o).Succeeded);
    }

    [Fact]
    public void SeveralBadOptions_AreAllReported()
    {
        SagaOptions o = new() { PollInterval = TimeSpan.Zero, MaxConcurrentSagas = 0 };

        ValidateOptionsResult result = new SagaOptionsValidator().Validate(null, o);

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count());
    }
}
