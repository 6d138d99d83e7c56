using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Tests.Timeouts;

public sealed class StepTimeoutTests
{
    [Fact]
    public async Task StepTimeout_StopsRetriesWhoseNextAttemptWouldStartPastIt()
    {
        FakeTimeProvider clock = Clock.NewFake();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("patience", saga =>
                saga.Step("charge")
                    .Execute(b.Ledger.Fails<TestData>(_ => new HttpRequestException("503")))
                    .WithRetry(100, r =>
                    {
                        r.InitialDelay = TimeSpan.FromSeconds(10);
                        r.BackoffFactor = 1;
                        r.Jitter = 0;
                    })
                    .WithStepTimeout(TimeSpan.FromSeconds(25))));

        string id = await host.StartSagaAsync();
        for (int attempt = 1; attempt <= 2; attempt++)
        {
            await host.WaitForAsync(id, s => s.Steps[0].Attempts == attempt, $"attempt {attempt} failed and waits 10 s");
            await Eventually.QuietPeriodAsync(20);
            int next = attempt + 1;
            await clock.AdvanceThenAwaitAsync(TimeSpan.FromSeconds(10), () => host.Ledger.Attempts(id, "charge").Count == next, $"attempt {next}");
        }

        await host.WaitForEndAsync(id);
        SagaSnapshot end = (await host.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Compensated, end.Status);
        // Attempts at 0 s, 10 s and 20 s; the next would start at 30 s, past the 25 s step timeout.
        Assert.Equal([1, 2, 3], host.Ledger.Attempts(id, "charge").Select(a => a.Attempt));
        SagaEvent failed = Assert.Single(await host.HistoryAsync(id), e => e.Kind == SagaEventKind.StepFailed);
        Assert.Equal(3, failed.Attempt);
        Assert.Contains("step timeout", failed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StepTimeout_CutsARunningAttempt_AndFailsTheStepForGood()
    {
        FakeTimeProvider clock = Clock.NewFake();
        Gate charge = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("patience", saga =>
                saga.Step("charge")
                    .Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await charge.WaitAsync(ct);
                    })
                    .WithRetry(5, r => r.InitialDelay = TimeSpan.Zero)
                    .WithStepTimeout(TimeSpan.FromMinutes(1))));

        string id = await host.StartSagaAsync();
        await charge.EnteredAsync();
        clock.Advance(TimeSpan.FromMinutes(1));

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.True(await charge.SawCancellation);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Single(host.Ledger.Attempts(id, "charge"));
        Assert.StartsWith("Step 'charge' failed: TimeoutException:", end.Error, StringComparison.Ordinal);
    }
}
