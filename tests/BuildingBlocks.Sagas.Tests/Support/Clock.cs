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

    /// <summary>
    /// Advances <paramref name="clock"/> by <paramref name="by"/>, then waits (real time) for <paramref name="condition"/>;
    /// if the coordinator had not armed its timer yet, nudges the clock one second at a time (bounded).
    /// </summary>
    public static async Task AdvanceThenAwaitAsync(this FakeTimeProvider clock, TimeSpan by, Func<bool> condition, string what)
    {
        clock.Advance(by);
        for (int nudge = 0; nudge < 10; nudge++)
        {
            for (int spin = 0; spin < 60 && !condition(); spin++)
            {
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }

            if (condition())
            {
                return;
            }

            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.True(condition(), $"After advancing the clock by {by} (and nudging it): expected {what}.");
    }
}
