using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Sagas.Tests.Parallel;

public sealed class ParallelGroupTests
{
    [Fact]
    public async Task Branches_RunAtTheSameTime_AndTheSagaGoesOnWhenAllComplete()
    {
        Gate flight = new();
        Gate hotel = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("trip", saga =>
        {
            saga.Parallel("book", p =>
            {
                p.Step("flight").Execute(async (ctx, ct) =>
                {
                    b.Ledger.Record(ctx);
                    await flight.WaitAsync(ct);
                });
                p.Step("hotel").Execute(async (ctx, ct) =>
                {
                    b.Ledger.Record(ctx);
                    await hotel.WaitAsync(ct);
                });
            });
            saga.Step("email").Execute(b.Ledger.Ok<TestData>());
        }));

        string id = await host.StartSagaAsync();

        // Both branches are inside their action before either is let go: they run concurrently.
        await flight.EnteredAsync();
        await hotel.EnteredAsync();
        flight.Release();
        await host.WaitForAsync(id, s => s.Steps[0].Status == SagaStepStatus.Completed, "flight completed");
        await Eventually.QuietPeriodAsync();
        Assert.DoesNotContain("email", host.Ledger.Forward(id));

        hotel.Release();
        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal("email", host.Ledger.Forward(id)[^1]);
        Assert.Equal(["flight", "hotel", "email"], end.Steps.Select(s => s.Name));
    }

    [Fact]
    public async Task Compensation_RunsInReverseOrderOfCompletion_AcrossTheGroup()
    {
        Dictionary<string, Gate> gates = new() { ["x"] = new(), ["y"] = new(), ["z"] = new() };
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("fan-out", saga =>
        {
            saga.Step("first").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Parallel("group", p =>
            {
                foreach (string branch in gates.Keys)
                {
                    p.Step(branch)
                        .Execute(async (ctx, ct) =>
                        {
                            b.Ledger.Record(ctx);
                            await gates[branch].WaitAsync(ct);
                        })
                        .Compensate(b.Ledger.Ok<TestData>());
                }
            });
            saga.Step("last").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        foreach (string branch in new[] { "z", "x", "y" })
        {
            await gates[branch].EnteredAsync();
        }

        // Finish order z, x, y (not the declaration order x, y, z).
        foreach (string branch in new[] { "z", "x", "y" })
        {
            gates[branch].Release();
            await Eventually.HoldsAsync(
                async () => (await host.HistoryAsync(id)).Any(e => e.Kind == SagaEventKind.StepCompleted && e.Step == branch),
                () => $"{branch} completed");
        }

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["y", "x", "z", "first"], host.Ledger.Compensations(id));
    }

    [Fact]
    public async Task FailingBranch_LetsTheOtherFinishItsCurrentAttempt_Uncanceled_ThenCompensatesIt()
    {
        Gate slow = new();
        Gate failing = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("trip", saga =>
        {
            saga.Step("first").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Parallel("book", p =>
            {
                p.Step("flight")
                    .Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await failing.WaitAsync(ct);
                        throw new PermanentStepFailureException("no seats");
                    })
                    .Compensate(b.Ledger.Ok<TestData>());
                p.Step("hotel")
                    .Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await slow.WaitIgnoringTokenAsync(ct);
                    })
                    .Compensate(b.Ledger.Ok<TestData>());
            });
            saga.Step("email").Execute(b.Ledger.Ok<TestData>());
        }));

        string id = await host.StartSagaAsync();
        await slow.EnteredAsync();
        await failing.EnteredAsync();
        failing.Release();
        await host.WaitForAsync(id, s => s.Steps[1].Status == SagaStepStatus.Failed, "flight failed");

        // The group waits for hotel's attempt; compensation has not started.
        await Eventually.QuietPeriodAsync();
        Assert.Empty(host.Ledger.Compensations(id));
        Assert.Equal(SagaStatus.Running, (await host.Client.GetAsync(id, SagaTestHost.Ct))!.Status);

        slow.Release();
        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.False(await slow.SawCancellation, "the sibling's attempt was canceled");
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["hotel", "first"], host.Ledger.Compensations(id));
        Assert.DoesNotContain("email", host.Ledger.Forward(id));
        Assert.Equal("Step 'flight' failed: PermanentStepFailureException: no seats", end.Error);
        Assert.Equal(
            [SagaStepStatus.Compensated, SagaStepStatus.Failed, SagaStepStatus.Compensated, SagaStepStatus.Pending],
            end.Steps.Select(s => s.Status));
    }

    [Fact]
    public async Task FailingBranch_SiblingWhoseCurrentAttemptFails_IsNotRetried()
    {
        Gate sibling = new();
        Gate failing = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("trip", saga =>
        {
            saga.Parallel("book", p =>
            {
                p.Step("flight").Execute(async (ctx, ct) =>
                {
                    b.Ledger.Record(ctx);
                    await failing.WaitAsync(ct);
                    throw new PermanentStepFailureException("no seats");
                });
                p.Step("hotel")
                    .Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await sibling.WaitAsync(ct);
                        throw new HttpRequestException("hotel API 503");
                    })
                    .WithRetry(5, r => r.InitialDelay = TimeSpan.Zero);
            });
        }));

        string id = await host.StartSagaAsync();
        await sibling.EnteredAsync();
        await failing.EnteredAsync();
        failing.Release();
        await host.WaitForAsync(id, s => s.Steps[0].Status == SagaStepStatus.Failed, "flight failed");
        sibling.Release();

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal([1], host.Ledger.Attempts(id, "hotel").Select(a => a.Attempt));
        Assert.Equal(SagaStepStatus.Failed, end.Steps[1].Status);
        Assert.Contains("StepFailed hotel#1", await host.HistoryLinesAsync(id));
    }

    [Fact]
    public async Task FailingBranch_SiblingWaitingToRetry_StopsWaiting_AndFails()
    {
        Gate failing = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("trip", saga =>
        {
            saga.Parallel("book", p =>
            {
                p.Step("flight").Execute(async (ctx, ct) =>
                {
                    b.Ledger.Record(ctx);
                    await failing.WaitAsync(ct);
                    throw new PermanentStepFailureException("no seats");
                });
                p.Step("hotel")
                    .Execute(b.Ledger.Fails<TestData>(_ => new HttpRequestException("hotel API 503")))
                    .WithRetry(5, r =>
                    {
                        r.InitialDelay = TimeSpan.FromHours(1);
                        r.MaxDelay = TimeSpan.FromHours(1);
                    });
            });
        }));

        string id = await host.StartSagaAsync();
        await failing.EnteredAsync();
        await host.WaitForAsync(id, s => s.Steps[1].Attempts == 1, "hotel's first attempt failed and waits an hour to retry");
        failing.Release();

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal([1], host.Ledger.Attempts(id, "hotel").Select(a => a.Attempt));
        SagaEvent hotelFailed = Assert.Single(await host.HistoryAsync(id), e => e.Kind == SagaEventKind.StepFailed && e.Step == "hotel");
        Assert.Contains("another branch of its parallel group failed", hotelFailed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BranchRetries_WhileNoSiblingFailed()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("trip", saga =>
        {
            saga.Parallel("book", p =>
            {
                p.Step("flight").Execute(b.Ledger.Ok<TestData>());
                p.Step("hotel")
                    .Execute(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 3 ? new HttpRequestException("503") : null))
                    .WithRetry(3, r => r.InitialDelay = TimeSpan.Zero);
            });
        }));

        string id = await host.StartSagaAsync();
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
        Assert.Equal([1, 2, 3], host.Ledger.Attempts(id, "hotel").Select(a => a.Attempt));
    }

    [Fact]
    public async Task BothBranchesFailing_CompensatesOnlyTheStepsBefore_AndKeepsTheFirstError()
    {
        Gate second = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("trip", saga =>
        {
            saga.Step("first").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Parallel("book", p =>
            {
                p.Step("flight").Execute(b.Ledger.FailsForGood<TestData>("no seats")).Compensate(b.Ledger.Ok<TestData>());
                p.Step("hotel")
                    .Execute(async (ctx, ct) =>
                    {
                        b.Ledger.Record(ctx);
                        await second.WaitAsync(ct);
                        throw new PermanentStepFailureException("no rooms");
                    })
                    .Compensate(b.Ledger.Ok<TestData>());
            });
        }));

        string id = await host.StartSagaAsync();
        await host.WaitForAsync(id, s => s.Steps[1].Status == SagaStepStatus.Failed, "flight failed");
        second.Release();

        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["first"], host.Ledger.Compensations(id));
        Assert.Equal("Step 'flight' failed: PermanentStepFailureException: no seats", end.Error);
    }

    [Fact]
    public async Task BranchFailingWithCompensateWhenFailed_IsUndoneFirst_ThenTheCompletedBranches()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("trip", saga =>
        {
            saga.Step("first").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Parallel("book", p =>
            {
                p.Step("hotel").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
                p.Step("flight")
                    .Execute(async (ctx, _) =>
                    {
                        b.Ledger.Record(ctx);
                        ISagaStore store = ctx.Services.GetRequiredService<ISagaStore>();
                        await Eventually.HoldsAsync(
                            async () => (await store.GetEventsAsync(ctx.SagaId, CancellationToken.None)).Any(e => e.Kind == SagaEventKind.StepCompleted && e.Step == "hotel"),
                            () => "hotel's completion was written");
                        throw new TimeoutException("airline timed out after booking");
                    })
                    .Compensate(b.Ledger.Ok<TestData>())
                    .CompensateWhenFailed();
            });
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["flight", "hotel", "first"], host.Ledger.Compensations(id));
    }
}
