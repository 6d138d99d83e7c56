using System.Diagnostics.Metrics;
using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace BuildingBlocks.Sagas.Tests.Leases;

/// <summary>
/// Another coordinator takes a saga over after its lease expired on the store's clock (this coordinator was paused, cut
/// off, or too slow to renew). The store's clock is a fake one of its own; the coordinator runs on real time.
/// </summary>
public sealed class LeaseLossTests
{
    private readonly LeaseTakeover _takeover = new();
    private readonly InMemorySagaStore _store;

    public LeaseLossTests()
    {
        _store = _takeover.Store;
    }

    private Task<SagaTestHost> HostAsync(Action<SagaBuilder<TestData>, Ledger> define, TimeSpan? renewal = null) => _takeover.HostAsync(define, renewal);

    private Task<SagaRecord> TakeOverAsync(string id) => _takeover.TakeOverAsync(id);

    [Fact]
    public async Task StepFinishingAfterTheLeaseWasTaken_ItsOutcomeIsRefused_TheSagaStopsHere_AndTheLossIsLoggedAndCounted()
    {
        Gate charge = new();
        await using SagaTestHost host = await HostAsync((saga, ledger) =>
        {
            saga.Step("reserve").Execute(ledger.Ok<TestData>()).Compensate(ledger.Ok<TestData>());
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                ledger.Record(ctx);
                ctx.Data.Value = "charged";
                await charge.WaitIgnoringTokenAsync(ct);
            });
            saga.Step("ship").Execute(ledger.Ok<TestData>());
        });
        using MetricCollector<long> lost = new(host.Services.GetRequiredService<IMeterFactory>(), SagasDiagnostics.MeterName, SagasDiagnostics.LeaseLostInstrument);
        string id = await host.StartSagaAsync();
        await charge.EnteredAsync();

        SagaRecord taken = await TakeOverAsync(id);
        Assert.Equal(2, taken.LeaseToken);
        charge.Release();

        await Eventually.HoldsAsync(() => host.Logs.GetSnapshot().Any(r => r.Id.Id == 4005), "LeaseLost was logged");
        await Eventually.QuietPeriodAsync();
        SagaRecord after = (await _store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal("intruder", after.LeaseOwner);
        Assert.Equal(2, after.LeaseToken);
        Assert.Equal(SagaStatus.Running, after.Status);
        Assert.DoesNotContain("charged", after.Data, StringComparison.Ordinal);
        Assert.Equal(["Started", "StepCompleted reserve#1"], await host.HistoryLinesAsync(id));
        Assert.Equal([SagaStepStatus.Completed, SagaStepStatus.Pending, SagaStepStatus.Pending], (await host.Client.GetAsync(id, SagaTestHost.Ct))!.Steps.Select(s => s.Status));
        Assert.Equal(["reserve", "charge"], host.Ledger.Forward(id));

        Microsoft.Extensions.Logging.Testing.FakeLogRecord log = host.Logs.GetSnapshot().Single(r => r.Id.Id == 4005);
        Assert.Contains(id, log.Message, StringComparison.Ordinal);
        Assert.Contains("token 1", log.Message, StringComparison.Ordinal);
        CollectedMeasurement<long> measurement = Assert.Single(lost.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal("order", measurement.Tags[SagasDiagnostics.SagaTag]);
    }

    [Fact]
    public async Task LeaseLostOnAWrite_CancelsTheOtherBranchesRunningAttempt()
    {
        Gate flight = new();
        Gate hotel = new();
        await using SagaTestHost host = await HostAsync((saga, ledger) =>
        {
            saga.Parallel("book", p =>
            {
                p.Step("flight").Execute(async (ctx, ct) =>
                {
                    ledger.Record(ctx);
                    await flight.WaitIgnoringTokenAsync(ct);
                });
                p.Step("hotel").Execute(async (ctx, ct) =>
                {
                    ledger.Record(ctx);
                    await hotel.WaitAsync(ct);
                });
            });
            saga.Step("email").Execute(ledger.Ok<TestData>());
        });
        string id = await host.StartSagaAsync();
        await flight.EnteredAsync();
        await hotel.EnteredAsync();

        await TakeOverAsync(id);
        flight.Release();

        Assert.True(await hotel.SawCancellation.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct));
        await Eventually.HoldsAsync(() => host.Logs.GetSnapshot().Any(r => r.Id.Id == 4005), "LeaseLost was logged");
        Assert.Equal(["Started"], await host.HistoryLinesAsync(id));
        Assert.DoesNotContain("email", host.Ledger.Forward(id));
    }

    [Fact]
    public async Task LeaseLostDuringCompensation_TheCompensationOutcomeIsRefused()
    {
        Gate undo = new();
        await using SagaTestHost host = await HostAsync((saga, ledger) =>
        {
            saga.Step("reserve").Execute(ledger.Ok<TestData>()).Compensate(ledger.Ok<TestData>());
            saga.Step("charge").Execute(ledger.Ok<TestData>()).Compensate(async (ctx, ct) =>
            {
                ledger.Record(ctx);
                await undo.WaitIgnoringTokenAsync(ct);
            });
            saga.Step("ship").Execute(ledger.FailsForGood<TestData>());
        });
        string id = await host.StartSagaAsync();
        await undo.EnteredAsync();

        await TakeOverAsync(id);
        undo.Release();

        await Eventually.HoldsAsync(() => host.Logs.GetSnapshot().Any(r => r.Id.Id == 4005), "LeaseLost was logged");
        await Eventually.QuietPeriodAsync();
        Assert.Equal(["charge"], host.Ledger.Compensations(id));
        SagaRecord after = (await _store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Compensating, after.Status);
        Assert.DoesNotContain(SagaEventKind.CompensationCompleted, (await host.HistoryAsync(id)).Select(e => e.Kind));
    }
}
