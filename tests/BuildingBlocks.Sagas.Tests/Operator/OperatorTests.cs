using System.Runtime.CompilerServices;
using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.OperatorActions;

public sealed class OperatorTests
{
    /// <summary>reserve, charge (its refund fails until fixed), ship (fails for good): parks as CompensationFailed on charge.</summary>
    private static async Task<(SagaTestHost Host, string Id, StrongBox<bool> Fixed)> ParkedAsync()
    {
        StrongBox<bool> refundFixed = new(false);
        SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge")
                .Execute(b.Ledger.Ok<TestData>())
                .Compensate(b.Ledger.Fails<TestData>(_ => refundFixed.Value ? null : new HttpRequestException("refund service down")))
                .WithCompensationRetry(2, r => r.InitialDelay = TimeSpan.Zero);
            saga.Step("ship").Execute(b.Ledger.FailsForGood<TestData>("no courier"));
        }));
        string id = await host.StartSagaAsync(sagaId: $"order-{Guid.NewGuid():N}");
        Assert.Equal(SagaStatus.CompensationFailed, (await host.WaitForEndAsync(id)).Status);
        return (host, id, refundFixed);
    }

    [Fact]
    public async Task Retry_AfterTheCompensationIsFixed_CompensatesWithFreshAttempts_AndRecordsTheRetry()
    {
        (SagaTestHost host, string id, StrongBox<bool> refundFixed) = await ParkedAsync();
        await using SagaTestHost owned = host;
        refundFixed.Value = true;

        await host.Operator.RetryAsync(id, "refund service is back", SagaTestHost.Ct);
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.Equal([1, 2, 1], host.Ledger.Attempts(id, "charge", SagaDirection.Compensation).Select(a => a.Attempt));
        Assert.Equal(["charge", "charge", "charge", "reserve"], host.Ledger.Compensations(id));
        IReadOnlyList<SagaEvent> history = await host.HistoryAsync(id);
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(e => e.Sequence));
        SagaEvent retried = Assert.Single(history, e => e.Kind == SagaEventKind.Retried);
        Assert.Equal("refund service is back", retried.Detail);
        Assert.Equal(
            ["CompensationAttemptFailed charge#1", "CompensationFailed charge#2", "Retried", "CompensationCompleted charge#1", "CompensationCompleted reserve#1", "Compensated"],
            (await host.HistoryLinesAsync(id)).Skip(4));
        Assert.Equal([SagaStepStatus.Compensated, SagaStepStatus.Compensated, SagaStepStatus.Failed], end.Steps.Select(s => s.Status));
    }

    [Fact]
    public async Task Retry_WhileStillBroken_ParksAgain_AfterAFullSetOfAttempts()
    {
        (SagaTestHost host, string id, _) = await ParkedAsync();
        await using SagaTestHost owned = host;

        await host.Operator.RetryAsync(id, cancellationToken: SagaTestHost.Ct);
        await host.WaitForAsync(id, s => s.Status == SagaStatus.CompensationFailed && host.Ledger.Compensations(id).Count == 4, "parked again");

        Assert.Equal([1, 2, 1, 2], host.Ledger.Attempts(id, "charge", SagaDirection.Compensation).Select(a => a.Attempt));
        Assert.Empty(host.Ledger.Attempts(id, "reserve", SagaDirection.Compensation));
        Assert.Equal("retried by an operator", Assert.Single(await host.HistoryAsync(id), e => e.Kind == SagaEventKind.Retried).Detail);
    }

    [Fact]
    public async Task Resolve_EndsAParkedSagaForGood_WithTheNote()
    {
        (SagaTestHost host, string id, _) = await ParkedAsync();
        await using SagaTestHost owned = host;

        await host.Operator.ResolveAsync(id, "refunded by hand, ticket 123", SagaTestHost.Ct);

        SagaSnapshot end = (await host.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Resolved, end.Status);
        Assert.True(end.IsFinished);
        Assert.False(end.IsParked);
        SagaEvent resolved = (await host.HistoryAsync(id))[^1];
        Assert.Equal(SagaEventKind.Resolved, resolved.Kind);
        Assert.Equal("refunded by hand, ticket 123", resolved.Detail);
        Assert.Equal((await host.HistoryAsync(id)).Count, resolved.Sequence);

        await Eventually.QuietPeriodAsync();
        Assert.Empty(host.Ledger.Attempts(id, "reserve", SagaDirection.Compensation));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Operator.RetryAsync(id, cancellationToken: SagaTestHost.Ct));
    }

    [Fact]
    public async Task RetryOrResolve_OfASagaThatIsNotParked_ThrowsInvalidOperation()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>())));
        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        InvalidOperationException retry = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Operator.RetryAsync(id, cancellationToken: SagaTestHost.Ct));
        Assert.Equal($"Saga '{id}' is Completed, not parked: only CompensationFailed and Suspended sagas can be retried.", retry.Message);
        InvalidOperationException resolve = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Operator.ResolveAsync(id, "note", SagaTestHost.Ct));
        Assert.Contains("can be resolved", resolve.Message, StringComparison.Ordinal);
        Assert.Equal(SagaStatus.Completed, (await host.Client.GetAsync(id, SagaTestHost.Ct))!.Status);
        Assert.DoesNotContain((await host.HistoryAsync(id)), e => e.Kind is SagaEventKind.Retried or SagaEventKind.Resolved);
    }

    [Fact]
    public async Task RetryOrResolve_OfARunningSaga_ThrowsInvalidOperation()
    {
        Gate gate = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga => saga.Step("a").Execute((_, ct) => gate.WaitAsync(ct))));
        string id = await host.StartSagaAsync();
        await gate.EnteredAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Operator.RetryAsync(id, cancellationToken: SagaTestHost.Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Operator.ResolveAsync(id, "note", SagaTestHost.Ct));
        gate.Release();
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    [Fact]
    public async Task RetryOrResolve_OfAnUnknownId_ThrowsSagaNotFound()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>())));

        SagaNotFoundException retry = await Assert.ThrowsAsync<SagaNotFoundException>(async () => await host.Operator.RetryAsync("nope", cancellationToken: SagaTestHost.Ct));
        Assert.Equal("No saga has id 'nope'.", retry.Message);
        await Assert.ThrowsAsync<SagaNotFoundException>(async () => await host.Operator.ResolveAsync("nope", "note", SagaTestHost.Ct));
    }

    [Fact]
    public async Task Resolve_WithoutANote_IsRefused()
    {
        (SagaTestHost host, string id, _) = await ParkedAsync();
        await using SagaTestHost owned = host;

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await host.Operator.ResolveAsync(id, " ", SagaTestHost.Ct));
        Assert.Equal(SagaStatus.CompensationFailed, (await host.Client.GetAsync(id, SagaTestHost.Ct))!.Status);
    }

    [Fact]
    public async Task Actions_AreLoggedAsOperatorActions()
    {
        (SagaTestHost host, string id, StrongBox<bool> refundFixed) = await ParkedAsync();
        await using SagaTestHost owned = host;
        refundFixed.Value = true;

        await host.Operator.RetryAsync(id, "fixed", SagaTestHost.Ct);

        Microsoft.Extensions.Logging.Testing.FakeLogRecord log = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 4011);
        Assert.Contains(id, log.Message, StringComparison.Ordinal);
        Assert.Contains("CompensationFailed", log.Message, StringComparison.Ordinal);
        Assert.Contains("Compensating", log.Message, StringComparison.Ordinal);
        Assert.Contains("fixed", log.Message, StringComparison.Ordinal);
        await host.WaitForEndAsync(id);
    }

    [Fact]
    public async Task ListParked_ReturnsCompensationFailedAndSuspendedSagas_InIdOrder_PageByPage()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Fails<TestData>(_ => new HttpRequestException("down")))
                .WithCompensationRetry(1);
            saga.Step("charge").Execute(b.Ledger.Fails<TestData>(ctx => ctx.Data.Value == "fail" ? new PermanentStepFailureException("no") : null));
        }));
        foreach (string id in new[] { "p-3", "p-1", "p-2", "p-4" })
        {
            await host.StartSagaAsync(new TestData { Value = "fail" }, id);
        }

        await host.StartSagaAsync(new TestData { Value = "ok" }, "p-0-completed");
        foreach (string id in new[] { "p-0-completed", "p-1", "p-2", "p-3", "p-4" })
        {
            await host.WaitForEndAsync(id);
        }

        IReadOnlyList<SagaSnapshot> first = await host.Operator.ListParkedAsync(3, cancellationToken: SagaTestHost.Ct);
        Assert.Equal(["p-1", "p-2", "p-3"], first.Select(s => s.Id));
        IReadOnlyList<SagaSnapshot> second = await host.Operator.ListParkedAsync(3, first[^1].Id, SagaTestHost.Ct);
        Assert.Equal(["p-4"], second.Select(s => s.Id));
        Assert.All(first.Concat(second), s => Assert.Equal(SagaStatus.CompensationFailed, s.Status));

        IReadOnlyDictionary<SagaStatus, long> counts = await host.Operator.CountByStatusAsync(SagaTestHost.Ct);
        Assert.Equal(4, counts[SagaStatus.CompensationFailed]);
        Assert.Equal(1, counts[SagaStatus.Completed]);
    }

    [Fact]
    public async Task Resolve_OfASuspendedSaga_EndsIt()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.MaxDataBytes = 200)
            .Saga("grow", saga =>
            {
                saga.Step("grow").Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    ctx.Data.Blob = new string('x', 300);
                    return Task.CompletedTask;
                });
                saga.Step("after").Execute(b.Ledger.Ok<TestData>());
            }));
        string id = await host.StartSagaAsync();
        Assert.Equal(SagaStatus.Suspended, (await host.WaitForEndAsync(id)).Status);
        Assert.Equal([id], (await host.Operator.ListParkedAsync(cancellationToken: SagaTestHost.Ct)).Select(s => s.Id));

        await host.Operator.ResolveAsync(id, "data trimmed by hand, order shipped manually", SagaTestHost.Ct);

        SagaSnapshot end = (await host.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Resolved, end.Status);
        Assert.Equal(["Started", "Suspended", "Resolved"], await host.HistoryLinesAsync(id));
        Assert.Empty(await host.Operator.ListParkedAsync(cancellationToken: SagaTestHost.Ct));
        await Eventually.QuietPeriodAsync();
        Assert.Equal(["grow"], host.Ledger.Forward(id));
    }
}
