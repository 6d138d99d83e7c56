using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Tests.Timeouts;

public sealed class DeadlineTests
{
    [Fact]
    public async Task DeadlinePassingDuringAStep_CancelsIt_WritesDeadlineExceeded_AndCompensates()
    {
        FakeTimeProvider clock = Clock.NewFake();
        Gate charge = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("deadline", saga =>
            {
                saga.WithDeadline(TimeSpan.FromMinutes(5));
                saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
                saga.Step("charge")
                    .Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await charge.WaitAsync(ct);
                    })
                    .Compensate(b.Ledger.Ok<TestData>())
                    .WithRetry(10, r => r.InitialDelay = TimeSpan.Zero);
                saga.Step("ship").Execute(b.Ledger.Ok<TestData>());
            }));

        string id = await host.StartSagaAsync();
        await charge.EnteredAsync();
        clock.Advance(TimeSpan.FromMinutes(5));

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.True(await charge.SawCancellation);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["reserve", "charge"], host.Ledger.Forward(id));
        Assert.Equal(["reserve"], host.Ledger.Compensations(id));
        Assert.Equal(
            ["Started", "StepCompleted reserve#1", "DeadlineExceeded charge#0", "CompensationCompleted reserve#1", "Compensated"],
            await host.HistoryLinesAsync(id));
        Assert.StartsWith("The saga deadline 2030-01-01T00:05:00", end.Error, StringComparison.Ordinal);
        Assert.Contains("during step 'charge'", end.Error, StringComparison.Ordinal);
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 4008);
    }

    [Fact]
    public async Task DeadlinePassedBetweenSteps_TheNextStepNeverRuns()
    {
        FakeTimeProvider clock = Clock.NewFake();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("deadline", saga =>
            {
                saga.WithDeadline(TimeSpan.FromMinutes(5));
                saga.Step("reserve")
                    .Execute((ctx, _) =>
                    {
                        b.Ledger.Record(ctx);
                        clock.Advance(TimeSpan.FromMinutes(6));
                        return Task.CompletedTask;
                    })
                    .Compensate(b.Ledger.Ok<TestData>());
                saga.Step("charge").Execute(b.Ledger.Ok<TestData>());
            }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["reserve"], host.Ledger.Forward(id));
        Assert.Equal(["reserve"], host.Ledger.Compensations(id));
        Assert.Contains("passed before step 'charge'", end.Error, StringComparison.Ordinal);
        Assert.Contains(SagaEventKind.DeadlineExceeded, (await host.HistoryAsync(id)).Select(e => e.Kind));
    }

    [Fact]
    public async Task DeadlinePassingWhileAStepWaitsToRetry_Compensates()
    {
        FakeTimeProvider clock = Clock.NewFake();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("deadline", saga =>
            {
                saga.WithDeadline(TimeSpan.FromMinutes(5));
                saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
                saga.Step("charge")
                    .Execute(b.Ledger.Fails<TestData>(_ => new HttpRequestException("503")))
                    .WithRetry(3, r =>
                    {
                        r.InitialDelay = TimeSpan.FromMinutes(10);
                        r.MaxDelay = TimeSpan.FromMinutes(10);
                    });
            }));

        string id = await host.StartSagaAsync();
        await host.WaitForAsync(id, s => s.Steps[1].Attempts == 1, "charge waits to retry");
        await clock.AdvanceUntilAsync(
            () => host.Client.GetAsync(id, SagaTestHost.Ct).AsTask().Result!.IsFinished,
            TimeSpan.FromMinutes(1),
            8,
            "the deadline ended the saga");

        SagaSnapshot end = (await host.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Single(host.Ledger.Attempts(id, "charge"));
        Assert.Contains("waited to retry", end.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadlinePassingDuringAParallelGroup_CancelsEveryBranch_AndCompensatesWhatCompleted()
    {
        FakeTimeProvider clock = Clock.NewFake();
        Gate flight = new();
        Gate hotel = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("deadline", saga =>
            {
                saga.WithDeadline(TimeSpan.FromMinutes(5));
                saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
                saga.Parallel("book", p =>
                {
                    p.Step("car").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
                    p.Step("flight").Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await flight.WaitAsync(ct);
                    }).Compensate(b.Ledger.Ok<TestData>());
                    p.Step("hotel").Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await hotel.WaitAsync(ct);
                    }).Compensate(b.Ledger.Ok<TestData>());
                });
            }));

        string id = await host.StartSagaAsync();
        await flight.EnteredAsync();
        await hotel.EnteredAsync();
        await host.WaitForAsync(id, s => s.Steps[1].Status == SagaStepStatus.Completed, "car completed");
        clock.Advance(TimeSpan.FromMinutes(5));

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.True(await flight.SawCancellation);
        Assert.True(await hotel.SawCancellation);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["car", "reserve"], host.Ledger.Compensations(id));
        Assert.Contains("during parallel group 'book'", end.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compensation_IsNotBoundByTheDeadline()
    {
        FakeTimeProvider clock = Clock.NewFake();
        Gate undo = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .With(clock)
            .Saga("deadline", saga =>
            {
                saga.WithDeadline(TimeSpan.FromMinutes(5));
                saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(async (ctx, ct) =>
                {
                    b.Ledger.Record(ctx);
                    await undo.WaitAsync(ct);
                });
                saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
            }));

        string id = await host.StartSagaAsync();
        await undo.EnteredAsync();
        clock.Advance(TimeSpan.FromMinutes(10));
        await Eventually.QuietPeriodAsync();
        undo.Release();

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.False(await undo.SawCancellation);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["reserve"], host.Ledger.Compensations(id));
    }

    [Fact]
    public async Task Deadline_CountsFromTheStart_NotFromAResume_OnAnotherHost()
    {
        FakeTimeProvider clock = Clock.NewFake();
        InMemorySagaStore store = new(clock);
        Ledger ledger = new();
        Gate charge = new();
        void Define(SagaBuilder<TestData> saga)
        {
            saga.WithDeadline(TimeSpan.FromMinutes(5));
            saga.Step("reserve").Execute(ledger.Ok<TestData>()).Compensate(ledger.Ok<TestData>());
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                ledger.Record(ctx);
                if (!charge.IsReleased)
                {
                    await charge.WaitAsync(ct);
                }
            }).Compensate(ledger.Ok<TestData>());
            saga.Step("ship").Execute(ledger.Ok<TestData>());
        }

        string id;
        await using (SagaTestHost first = await SagaTestHost.StartAsync(b =>
        {
            b.With(clock);
            b.Store = store;
            b.Ledger = ledger;
            b.Saga("deadline", Define);
        }))
        {
            id = await first.StartSagaAsync();
            await charge.EnteredAsync();
            Task stopping = first.StopAsync();
            charge.Release();
            await stopping.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        }

        clock.Advance(TimeSpan.FromMinutes(6));
        await using SagaTestHost second = await SagaTestHost.StartAsync(b =>
        {
            b.With(clock);
            b.Store = store;
            b.Ledger = ledger;
            b.Saga("deadline", Define);
        });
        SagaSnapshot end = await second.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["reserve", "charge"], ledger.Forward(id));
        Assert.Equal(["charge", "reserve"], ledger.Compensations(id));
        Assert.Contains("passed before step 'ship'", end.Error, StringComparison.Ordinal);
    }
}
