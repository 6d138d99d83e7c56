using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Tests.Retries;

public sealed class RetrySchedulerTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(10);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    [InlineData(10, 512)]
    public void Delay_WithoutJitter_DoublesWithEveryAttempt(int attempt, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RetryScheduler.Delay(attempt, Base, Max, jitter: 0, random01: 0.123));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(20)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void Delay_IsCappedAtTheMaximum(int attempt)
    {
        Assert.Equal(Max, RetryScheduler.Delay(attempt, Base, Max, jitter: 0, random01: 0.5));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Delay_ForAttemptZeroOrLess_IsTheBaseDelay(int attempt)
    {
        Assert.Equal(Base, RetryScheduler.Delay(attempt, Base, Max, jitter: 0, random01: 0.5));
    }

    [Fact]
    public void Delay_WithZeroBase_IsZero()
    {
        Assert.Equal(TimeSpan.Zero, RetryScheduler.Delay(5, TimeSpan.Zero, Max, jitter: 0.5, random01: 1));
    }

    [Theory]
    [InlineData(0.0, 8.0)]
    [InlineData(0.25, 9.0)]
    [InlineData(0.5, 10.0)]
    [InlineData(0.75, 11.0)]
    [InlineData(1.0, 12.0)]
    public void Delay_Jitter_SpreadsLinearlyBetweenTheBounds(double random01, double expectedSeconds)
    {
        // Attempt 2 of base 5 s: 10 s, spread by ±20 %.
        TimeSpan delay = RetryScheduler.Delay(2, TimeSpan.FromSeconds(5), Max, jitter: 0.2, random01);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }

    [Fact]
    public void Delay_JitterOnACappedDelay_NeverExceedsTheMaximum()
    {
        Assert.Equal(Max, RetryScheduler.Delay(30, Base, Max, jitter: 0.5, random01: 1));
        Assert.Equal(Max * 0.5, RetryScheduler.Delay(30, Base, Max, jitter: 0.5, random01: 0));
    }

    [Fact]
    public void Delay_WithFullJitter_CanBeZeroButNeverNegative()
    {
        Assert.Equal(TimeSpan.Zero, RetryScheduler.Delay(3, Base, Max, jitter: 1, random01: 0));
        Assert.Equal(TimeSpan.FromSeconds(8), RetryScheduler.Delay(3, Base, Max, jitter: 1, random01: 1));
    }

    [Fact]
    public void Delay_WithRandomJitter_StaysWithinTheBounds_AndActuallyVaries()
    {
        var seen = new HashSet<TimeSpan>();
        for (int i = 0; i < 1_000; i++)
        {
            TimeSpan delay = RetryScheduler.Delay(4, Base, Max, jitter: 0.2);
            Assert.InRange(delay, TimeSpan.FromSeconds(8 * 0.8), TimeSpan.FromSeconds(8 * 1.2));
            seen.Add(delay);
        }

        Assert.True(seen.Count > 100, $"1,000 jittered delays should not collapse to a few values; got {seen.Count} distinct.");
    }

    private static LeasedTask Leased(int attempt, int maxAttempts) => new()
    {
        Id = 1,
        Queue = "orders",
        Payload = ReadOnlyMemory<byte>.Empty,
        Attempt = attempt,
        MaxAttempts = maxAttempts,
        LeaseToken = attempt,
        LeaseExpiresAt = Start.AddSeconds(30),
        EnqueuedAt = Start,
        RunAt = Start,
        ClaimedAt = Start,
    };

    private static RetryScheduler Scheduler(TimeSpan? baseDelay = null, TimeSpan? maxDelay = null, double jitter = 0) =>
        new(new TaskQueueOptions { RetryBaseDelay = baseDelay ?? Base, RetryMaxDelay = maxDelay ?? Max, RetryJitter = jitter }, new FakeTimeProvider(Start));

    [Fact]
    public void Decide_WithAttemptsLeft_RetriesAfterTheBackoff()
    {
        TaskFailure failure = Scheduler().Decide(Leased(attempt: 3, maxAttempts: 5), new InvalidOperationException("down"), permanent: false, queueOptions: null);

        Assert.Equal(Start.AddSeconds(4), failure.RetryAt);
        Assert.Equal("System.InvalidOperationException: down", failure.Error);
    }

    [Fact]
    public void Decide_WithJitter_RetriesWithinTheBounds()
    {
        TaskFailure failure = Scheduler(jitter: 0.5).Decide(Leased(attempt: 2, maxAttempts: 5), new TimeoutException(), permanent: false, queueOptions: null);

        Assert.NotNull(failure.RetryAt);
        Assert.InRange(failure.RetryAt.Value, Start.AddSeconds(1), Start.AddSeconds(3));
    }

    [Fact]
    public void Decide_OnTheLastAttempt_DeadLetters()
    {
        Assert.Null(Scheduler().Decide(Leased(attempt: 5, maxAttempts: 5), new InvalidOperationException(), permanent: false, queueOptions: null).RetryAt);
        Assert.Null(Scheduler().Decide(Leased(attempt: 6, maxAttempts: 5), new InvalidOperationException(), permanent: false, queueOptions: null).RetryAt);
        Assert.NotNull(Scheduler().Decide(Leased(attempt: 4, maxAttempts: 5), new InvalidOperationException(), permanent: false, queueOptions: null).RetryAt);
    }

    [Fact]
    public void Decide_PermanentFailure_DeadLettersWithAttemptsLeft()
    {
        RetryScheduler scheduler = Scheduler();

        Assert.Null(scheduler.Decide(Leased(1, 5), new PermanentTaskFailureException("no such customer"), permanent: false, queueOptions: null).RetryAt);
        Assert.Null(scheduler.Decide(Leased(1, 5), new TaskPayloadException("unreadable"), permanent: false, queueOptions: null).RetryAt);
        Assert.Null(scheduler.Decide(Leased(1, 5), new InvalidOperationException(), permanent: true, queueOptions: null).RetryAt);
    }

    [Fact]
    public void Decide_QueueOptions_OverrideTheBaseAndMaximumDelay()
    {
        var queue = new QueueHandlerOptions { RetryBaseDelay = TimeSpan.FromSeconds(10), RetryMaxDelay = TimeSpan.FromSeconds(15) };

        Assert.Equal(Start.AddSeconds(10), Scheduler().Decide(Leased(1, 5), new InvalidOperationException(), false, queue).RetryAt);
        Assert.Equal(Start.AddSeconds(15), Scheduler().Decide(Leased(2, 5), new InvalidOperationException(), false, queue).RetryAt);
        Assert.Equal(Start.AddSeconds(30), Scheduler().Decide(Leased(3, 5), new InvalidOperationException(), false, new QueueHandlerOptions { RetryBaseDelay = TimeSpan.FromSeconds(7.5) }).RetryAt);
    }

    [Fact]
    public void Describe_IsTypeAndMessage_TruncatedTo4000Characters()
    {
        Assert.Equal("System.ArgumentException: bad", RetryScheduler.Describe(new ArgumentException("bad")));

        string described = RetryScheduler.Describe(new InvalidOperationException(new string('x', 10_000)));

        Assert.Equal(4000, described.Length);
        Assert.StartsWith("System.InvalidOperationException: xxx", described, StringComparison.Ordinal);
    }
}
