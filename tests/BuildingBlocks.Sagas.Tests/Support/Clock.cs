using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>Fake-clock helpers: the coordinator's step delays, timeouts and deadlines follow the registered <see cref="TimeProvider"/>.</summary>
public static class Clock
{
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider NewFake() => new(Start);

    /// <summary>
    /// Advances <paramref name="clock"/> by <paramref name="step"/> at a time, giving the coordinator a moment of real time
    /// after each, until <paramref name="condition"/> holds; fails after <paramref name="maxSteps"/>.
    /// </summary>
    public static async Task AdvanceUntilAsync(this FakeTimeProvider clock, Func<bool> condition, TimeSpan step, int maxSteps, string what, int settleMilliseconds = 100)
    {
        for (int i = 0; i < maxSteps; i++)
        {
            if (condition())
            {
                return;
            }

            clock.Advance(step);
            for (int spin = 0; spin < settleMilliseconds / 5 && !condition(); spin++)
            {
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }
        }

        Assert.True(condition(), $"After advancing the clock {maxSteps} x {step}: expected {what}.");
    }

    /// <summary>
    /// Options for fake-clock hosts: leases so long that advancing the clock never expires them, and no default attempt
    /// timeout (tests that advance the clock set the timeouts they mean).
    /// </summary>
    public static void LongLeases(SagaOptions options)
    {
        options.DefaultAttemptTimeout = null;
        options.LeaseDuration = TimeSpan.FromHours(6);
        options.LeaseRenewalInterval = TimeSpan.FromHours(1);
    }
}
