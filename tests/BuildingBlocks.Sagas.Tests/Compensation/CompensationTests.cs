using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Compensation;

public sealed class CompensationTests
{
    [Fact]
    public async Task FailureForGood_CompensatesTheCompletedSteps_InReverseOrder_SkippingStepsWithoutCompensation()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("notify").Execute(b.Ledger.Ok<TestData>());
            saga.Step("charge").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("ship").Execute(b.Ledger.FailsForGood<TestData>("no courier")).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("never").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["reserve", "notify", "charge", "ship"], host.Ledger.Forward(id));
        Assert.Equal(["charge", "reserve"], host.Ledger.Compensations(id));
        Assert.Equal(
            ["Started", "StepCompleted reserve#1", "StepCompleted notify#1", "StepCompleted charge#1", "StepFailed ship#1",
             "CompensationCompleted charge#1", "CompensationCompleted reserve#1", "Compensated"],
            await host.HistoryLinesAsync(id));
        Assert.Equal(
            [SagaStepStatus.Compensated, SagaStepStatus.Completed, SagaStepStatus.Compensated, SagaStepStatus.Failed, SagaStepStatus.Pending],
            end.Steps.Select(s => s.Status));
        Assert.Equal("Step 'ship' failed: PermanentStepFailureException: no courier", end.Error);
        Assert.Null(end.LeaseOwner);
    }

    [Fact]
    public async Task Compensation_GetsItsOwnIdempotencyKey_AndTheDataTheActionSaved()
    {
        List<string?> seen = [];
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve")
                .Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    ctx.Data.Blob = "reservation-7";
                    return Task.CompletedTask;
                })
                .Compensate((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    seen.Add(ctx.Data.Blob);
                    Assert.Equal(SagaDirection.Compensation, ctx.Direction);
                    return Task.CompletedTask;
                });
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        Assert.Equal(["reservation-7"], seen);
        LedgerEntry undo = Assert.Single(host.Ledger.Attempts(id, "reserve", SagaDirection.Compensation));
        Assert.Equal($"{id}/reserve/compensation", undo.IdempotencyKey);
        Assert.Equal(1, undo.Attempt);
    }

    [Fact]
    public async Task CompensateWhenFailed_UndoesTheFailedStepToo_First()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge")
                .Execute(b.Ledger.Fails<TestData>(_ => new TimeoutException("gateway timed out after charging")))
                .Compensate(b.Ledger.Ok<TestData>())
                .CompensateWhenFailed();
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal(["charge", "reserve"], host.Ledger.Compensations(id));
        Assert.Equal([SagaStepStatus.Compensated, SagaStepStatus.Compensated], end.Steps.Select(s => s.Status));
    }

    [Fact]
    public async Task FailedStep_WithoutCompensateWhenFailed_IsNotCompensated()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>()).Compensate(b.Ledger.Ok<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(["reserve"], host.Ledger.Compensations(id));
        Assert.Equal(SagaStepStatus.Failed, end.Steps[1].Status);
    }

    [Fact]
    public async Task FirstStepFailing_LeavesNothingToUndo_AndEndsCompensated()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.FailsForGood<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Empty(host.Ledger.Compensations(id));
        Assert.Equal(["reserve"], host.Ledger.Forward(id));
    }

    [Fact]
    public async Task CompensationRetry_NumbersAttempts_WithTheSameKey_UntilItSucceeds()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve")
                .Execute(b.Ledger.Ok<TestData>())
                .Compensate(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 3 ? new HttpRequestException("stock service down") : null))
                .WithCompensationRetry(5, r => r.InitialDelay = TimeSpan.Zero);
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        IReadOnlyList<LedgerEntry> undo = host.Ledger.Attempts(id, "reserve", SagaDirection.Compensation);
        Assert.Equal([1, 2, 3], undo.Select(u => u.Attempt));
        Assert.All(undo, u => Assert.Equal($"{id}/reserve/compensation", u.IdempotencyKey));
        Assert.Equal(
            ["Started", "StepCompleted reserve#1", "StepFailed charge#1", "CompensationAttemptFailed reserve#1", "CompensationAttemptFailed reserve#2", "CompensationCompleted reserve#3", "Compensated"],
            await host.HistoryLinesAsync(id));
        Assert.Equal(new SagaStepSnapshot("reserve", SagaStepStatus.Compensated, 0, 2), end.Steps[0]);
    }

    [Fact]
    public async Task DefaultCompensationRetryOption_AppliesToCompensationsThatSetNone()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.DefaultCompensationRetry = new SagaRetryPolicy { MaxAttempts = 4, InitialDelay = TimeSpan.Zero })
            .Saga("order", saga =>
            {
                saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 4 ? new HttpRequestException("down") : null));
                saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
            }));

        string id = await host.StartSagaAsync();
        Assert.Equal(SagaStatus.Compensated, (await host.WaitForEndAsync(id)).Status);
        Assert.Equal([1, 2, 3, 4], host.Ledger.Attempts(id, "reserve", SagaDirection.Compensation).Select(u => u.Attempt));
    }

    [Fact]
    public async Task CompensationFailingPastItsRetries_ParksTheSaga_WithTheErrorVisible_AndTheLeaseReleased()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge")
                .Execute(b.Ledger.Ok<TestData>())
                .Compensate(b.Ledger.Fails<TestData>(_ => new HttpRequestException("refund service down")))
                .WithCompensationRetry(3, r => r.InitialDelay = TimeSpan.Zero);
            saga.Step("ship").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("invoice").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.CompensationFailed, end.Status);
        Assert.True(end.IsParked);
        Assert.False(end.IsFinished);
        Assert.Null(end.LeaseOwner);
        Assert.Null(end.LeaseExpiresAt);
        Assert.Equal("The compensation of step 'charge' failed after 3 attempt(s): HttpRequestException: refund service down", end.Error);

        // The remaining compensation (reserve) waits for the operator.
        Assert.Equal(["ship", "charge", "charge", "charge"], host.Ledger.Compensations(id));
        Assert.Equal(
            [SagaStepStatus.Completed, SagaStepStatus.CompensationFailed, SagaStepStatus.Compensated, SagaStepStatus.Failed],
            end.Steps.Select(s => s.Status));
        Assert.Equal(3, end.Steps[1].CompensationAttempts);
        Assert.Equal(
            ["Started", "StepCompleted reserve#1", "StepCompleted charge#1", "StepCompleted ship#1", "StepFailed invoice#1",
             "CompensationCompleted ship#1", "CompensationAttemptFailed charge#1", "CompensationAttemptFailed charge#2", "CompensationFailed charge#3"],
            await host.HistoryLinesAsync(id));

        // Nobody picks a parked saga up again.
        await Eventually.QuietPeriodAsync();
        Assert.Equal(4, host.Ledger.Compensations(id).Count);
        Assert.Equal(SagaStatus.CompensationFailed, (await host.Client.GetAsync(id, SagaTestHost.Ct))!.Status);
    }

    [Fact]
    public async Task PermanentFailureOfACompensation_IsNotRetried()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.FailsForGood<TestData>("already shipped"))
                .WithCompensationRetry(5, r => r.InitialDelay = TimeSpan.Zero);
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.CompensationFailed, end.Status);
        Assert.Equal(["reserve"], host.Ledger.Compensations(id));
    }

    [Fact]
    public async Task DataChangedByACompensation_IsSaved()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate((ctx, _) =>
            {
                ctx.Data.Note("released");
                return Task.CompletedTask;
            });
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        Assert.Equal(["released"], (await host.Client.GetDataAsync<TestData>(id, SagaTestHost.Ct))!.Notes);
    }
}
