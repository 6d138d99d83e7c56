using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Tests.Timeouts;

public sealed class AttemptTimeoutTests
{
    [Fact]
    public async Task StepIgnoringItsToken_IsAbandonedAtTheTimeout_RetriedThenFailed_AndTheSagaStillEnds()
    {
        TaskCompletionSource never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("hang", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge")
                .Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    return never.Task; // hangs forever, ignoring the token
                })
                .WithTimeout(TimeSpan.FromMilliseconds(100))
                .WithRetry(2, r => r.InitialDelay = TimeSpan.Zero);
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal([1, 2], host.Ledger.Attempts(id, "charge").Select(a => a.Attempt));
        Assert.Equal(["reserve"], host.Ledger.Compensations(id));
        IReadOnlyList<SagaEvent> history = await host.HistoryAsync(id);
        SagaEvent retried = Assert.Single(history, e => e.Kind == SagaEventKind.StepAttemptFailed);
        Assert.StartsWith("TimeoutException: Attempt 1 of the action of step 'charge' did not finish within", retried.Detail, StringComparison.Ordinal);
        SagaEvent failed = Assert.Single(history, e => e.Kind == SagaEventKind.StepFailed);
        Assert.Equal(2, failed.Attempt);
        Assert.StartsWith("TimeoutException:", failed.Detail, StringComparison.Ordinal);
        never.TrySetResult();
    }

    [Fact]
    public async Task AttemptTimeout_CancelsTheAttemptsToken_AndTheRetryCanSucceed()
    {
        FakeTimeProvider clock = Clock.NewFake();
        Gate first = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("slow", saga =>
                saga.Step("charge")
                    .Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        if (ctx.Attempt == 1)
                        {
                            await first.WaitAsync(ct);
                        }
                    })
                    .WithTimeout(TimeSpan.FromSeconds(30))
                    .WithRetry(2, r => r.InitialDelay = TimeSpan.Zero)));

        string id = await host.StartSagaAsync();
        await first.EnteredAsync();
        clock.Advance(TimeSpan.FromSeconds(29));
        await Eventually.QuietPeriodAsync();
        Assert.Single(host.Ledger.Attempts(id, "charge"));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await first.SawCancellation.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct));
        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(["Started", "StepAttemptFailed charge#1", "StepCompleted charge#2", "Completed"], await host.HistoryLinesAsync(id));
    }

    [Fact]
    public async Task DefaultAttemptTimeoutOption_AppliesToStepsThatSetNone()
    {
        TaskCompletionSource never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.DefaultAttemptTimeout = TimeSpan.FromMilliseconds(100))
            .Saga("hang", saga => saga.Step("charge").Execute((ctx, _) =>
            {
                b.Ledger.Record(ctx);
                return never.Task;
            })));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.StartsWith("Step 'charge' failed: TimeoutException:", end.Error, StringComparison.Ordinal);
        never.TrySetResult();
    }

    [Fact]
    public async Task CompensationIgnoringItsToken_TimesOut_IsRetried_ThenParks()
    {
        TaskCompletionSource never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("hang", saga =>
        {
            saga.Step("reserve")
                .Execute(b.Ledger.Ok<TestData>())
                .Compensate((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    return never.Task;
                })
                .WithCompensationTimeout(TimeSpan.FromMilliseconds(100))
                .WithCompensationRetry(2, r => r.InitialDelay = TimeSpan.Zero);
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.CompensationFailed, end.Status);
        Assert.Equal([1, 2], host.Ledger.Attempts(id, "reserve", SagaDirection.Compensation).Select(a => a.Attempt));
        Assert.Contains("TimeoutException: Attempt 2 of the compensation of step 'reserve' did not finish within", end.Error, StringComparison.Ordinal);
        never.TrySetResult();
    }

    [Fact]
    public async Task StepTimeout_AppliesToCompensationsWithoutTheirOwn()
    {
        TaskCompletionSource never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("hang", saga =>
        {
            saga.Step("reserve")
                .Execute(b.Ledger.Ok<TestData>())
                .Compensate((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    return never.Task;
                })
                .WithTimeout(TimeSpan.FromMilliseconds(100))
                .WithCompensationRetry(1);
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.CompensationFailed, end.Status);
        Assert.Contains("TimeoutException", end.Error, StringComparison.Ordinal);
        never.TrySetResult();
    }
}
