using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Tests.Execution;

public sealed class RetryTests
{
    private static void NoDelay(SagaRetryPolicy r) => r.InitialDelay = TimeSpan.Zero;

    [Fact]
    public async Task Retry_NumbersTheAttempts_AndPassesTheSameIdempotencyKeyEveryTime()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("retry", saga =>
            saga.Step("charge")
                .Execute(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 3 ? new HttpRequestException($"503 on attempt {ctx.Attempt}") : null))
                .WithRetry(5, NoDelay)));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        IReadOnlyList<LedgerEntry> attempts = host.Ledger.Attempts(id, "charge");
        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        Assert.All(attempts, a => Assert.Equal($"{id}/charge/forward", a.IdempotencyKey));
        Assert.Equal(["Started", "StepAttemptFailed charge#1", "StepAttemptFailed charge#2", "StepCompleted charge#3", "Completed"], await host.HistoryLinesAsync(id));
        IReadOnlyList<SagaEvent> history = await host.HistoryAsync(id);
        Assert.Equal("HttpRequestException: 503 on attempt 1", history[1].Detail);
        Assert.Equal("HttpRequestException: 503 on attempt 2", history[2].Detail);
        Assert.Equal(new SagaStepSnapshot("charge", SagaStepStatus.Completed, 2, 0), Assert.Single(end.Steps));
    }

    [Fact]
    public async Task Retry_OutOfAttempts_FailsTheStepForGood_AndCompensates()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("retry", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge").Execute(b.Ledger.Fails<TestData>(_ => new HttpRequestException("503"))).WithRetry(3, NoDelay);
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal([1, 2, 3], host.Ledger.Attempts(id, "charge").Select(a => a.Attempt));
        Assert.Equal(["reserve"], host.Ledger.Compensations(id));
        Assert.Equal(
            ["Started", "StepCompleted reserve#1", "StepAttemptFailed charge#1", "StepAttemptFailed charge#2", "StepFailed charge#3", "CompensationCompleted reserve#1", "Compensated"],
            await host.HistoryLinesAsync(id));
        Assert.Equal("Step 'charge' failed: HttpRequestException: 503", end.Error);
        Assert.Equal(new SagaStepSnapshot("charge", SagaStepStatus.Failed, 3, 0), end.Steps[1]);
    }

    [Fact]
    public async Task ShouldRetryFalse_FailsTheStepOnTheFirstAttempt()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("retry", saga =>
            saga.Step("charge")
                .Execute(b.Ledger.Fails<TestData>(_ => new ArgumentException("card number invalid")))
                .WithRetry(5, r =>
                {
                    NoDelay(r);
                    r.ShouldRetry = e => e is HttpRequestException;
                })));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal([1], host.Ledger.Attempts(id, "charge").Select(a => a.Attempt));
        Assert.Equal(["Started", "StepFailed charge#1", "Compensated"], await host.HistoryLinesAsync(id));
    }

    [Fact]
    public async Task ShouldRetry_DecidesPerError()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("retry", saga =>
            saga.Step("charge")
                .Execute(b.Ledger.Fails<TestData>(ctx => ctx.Attempt == 1 ? new HttpRequestException("503") : new ArgumentException("invalid")))
                .WithRetry(5, r =>
                {
                    NoDelay(r);
                    r.ShouldRetry = e => e is HttpRequestException;
                })));

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        Assert.Equal([1, 2], host.Ledger.Attempts(id, "charge").Select(a => a.Attempt));
        Assert.Equal(["Started", "StepAttemptFailed charge#1", "StepFailed charge#2", "Compensated"], await host.HistoryLinesAsync(id));
    }

    [Fact]
    public async Task PermanentStepFailure_IsNeverRetried_EvenWhenShouldRetrySaysYes()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("retry", saga =>
            saga.Step("charge")
                .Execute(b.Ledger.FailsForGood<TestData>("card declined"))
                .WithRetry(5, r =>
                {
                    NoDelay(r);
                    r.ShouldRetry = _ => true;
                })));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal([1], host.Ledger.Attempts(id, "charge").Select(a => a.Attempt));
        Assert.Equal("Step 'charge' failed: PermanentStepFailureException: card declined", end.Error);
    }

    [Fact]
    public async Task StepWithoutRetry_RunsOnce_ByDefault()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("retry", saga =>
            saga.Step("charge").Execute(b.Ledger.Fails<TestData>(_ => new HttpRequestException("503")))));

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        Assert.Equal([1], host.Ledger.Attempts(id, "charge").Select(a => a.Attempt));
    }

    [Fact]
    public async Task DefaultStepRetryOption_AppliesToStepsThatSetNone()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.DefaultStepRetry = new SagaRetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.Zero })
            .Saga("retry", saga =>
            {
                saga.Step("default").Execute(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 3 ? new HttpRequestException("503") : null));
                saga.Step("own").Execute(b.Ledger.Fails<TestData>(_ => new HttpRequestException("503"))).WithRetry(2, NoDelay);
            }));

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        Assert.Equal([1, 2, 3], host.Ledger.Attempts(id, "default").Select(a => a.Attempt));
        Assert.Equal([1, 2], host.Ledger.Attempts(id, "own").Select(a => a.Attempt));
    }

    [Fact]
    public async Task Backoff_EachRetryWaitsItsDelayOnTheClock()
    {
        FakeTimeProvider clock = Clock.NewFake();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("backoff", saga =>
                saga.Step("charge")
                    .Execute(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 4 ? new HttpRequestException("503") : null))
                    .WithRetry(4, r =>
                    {
                        r.InitialDelay = TimeSpan.FromSeconds(10);
                        r.BackoffFactor = 3;
                        r.MaxDelay = TimeSpan.FromSeconds(60);
                        r.Jitter = 0;
                    })));

        string id = await host.StartSagaAsync();
        await host.Ledger.WaitUntilAsync(l => l.Attempts(id, "charge").Count == 1, "the first attempt ran");
        await host.WaitForAsync(id, s => s.Steps[0].Attempts == 1, "attempt 1 recorded");

        clock.Advance(TimeSpan.FromSeconds(9));
        await Eventually.QuietPeriodAsync();
        Assert.Single(host.Ledger.Attempts(id, "charge"));

        await clock.AdvanceUntilAsync(() => host.Ledger.Attempts(id, "charge").Count == 2, TimeSpan.FromSeconds(1), 20, "attempt 2 after 10 s");
        await host.WaitForAsync(id, s => s.Steps[0].Attempts == 2, "attempt 2 recorded");
        clock.Advance(TimeSpan.FromSeconds(29));
        await Eventually.QuietPeriodAsync();
        Assert.Equal(2, host.Ledger.Attempts(id, "charge").Count);

        await clock.AdvanceUntilAsync(() => host.Ledger.Attempts(id, "charge").Count == 3, TimeSpan.FromSeconds(1), 40, "attempt 3 after 30 s more");
        await host.WaitForAsync(id, s => s.Steps[0].Attempts == 3, "attempt 3 recorded");
        await clock.AdvanceUntilAsync(() => host.Ledger.Attempts(id, "charge").Count == 4, TimeSpan.FromSeconds(5), 40, "attempt 4 after the capped delay");
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);

        // Outcomes are written at the fake time they happened: each retry started at least its delay after the failure.
        IReadOnlyList<SagaEvent> history = await host.HistoryAsync(id);
        DateTimeOffset[] at = [.. history.Where(e => e.Step == "charge").Select(e => e.At)];
        Assert.Equal(4, at.Length);
        Assert.True(at[1] - at[0] >= TimeSpan.FromSeconds(10), $"retry 1 after {at[1] - at[0]}");
        Assert.True(at[2] - at[1] >= TimeSpan.FromSeconds(30), $"retry 2 after {at[2] - at[1]}");
        Assert.True(at[3] - at[2] >= TimeSpan.FromSeconds(60), $"retry 3 after {at[3] - at[2]} (90 s capped at 60 s)");
        Assert.True(at[3] - at[2] < TimeSpan.FromSeconds(90), $"retry 3 after {at[3] - at[2]}: MaxDelay caps it at 60 s");
    }

    [Fact]
    public async Task StepAttemptFailed_IsLoggedWithTheRetryDelay()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("retry", saga =>
            saga.Step("charge").Execute(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 2 ? new HttpRequestException("503") : null)).WithRetry(2, NoDelay)));

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        Microsoft.Extensions.Logging.Testing.FakeLogRecord record = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 4001);
        Assert.Contains(id, record.Message, StringComparison.Ordinal);
        Assert.Contains("attempt 1 of 2", record.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(record.Exception);
    }
}
