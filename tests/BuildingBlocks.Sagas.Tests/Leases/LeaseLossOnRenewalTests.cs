using System.Diagnostics.Metrics;
using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace BuildingBlocks.Sagas.Tests.Leases;

/// <summary>A renewal that finds another coordinator owning the saga: the lease is lost without a refused write.</summary>
public sealed class LeaseLossOnRenewalTests
{
    private readonly LeaseTakeover _takeover = new();

    [Fact]
    public async Task RenewalFindingTheLeaseTaken_CancelsTheRunningAttempt_StartsNothingMore_AndCountsTheLoss()
    {
        Gate charge = new();
        await using SagaTestHost host = await _takeover.HostAsync(
            (saga, ledger) =>
            {
                saga.Step("charge").Execute(async (ctx, ct) =>
                {
                    ledger.Record(ctx);
                    await charge.WaitAsync(ct);
                }).WithRetry(3, r => r.InitialDelay = TimeSpan.Zero);
                saga.Step("ship").Execute(ledger.Ok<TestData>());
            },
            renewal: TimeSpan.FromMilliseconds(50));
        using MetricCollector<long> lost = new(host.Services.GetRequiredService<IMeterFactory>(), SagasDiagnostics.MeterName, SagasDiagnostics.LeaseLostInstrument);
        string id = await host.StartSagaAsync();
        await charge.EnteredAsync();

        await _takeover.TakeOverAsync(id);

        Assert.True(await charge.SawCancellation.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct));
        await Eventually.QuietPeriodAsync();
        Assert.Equal(["charge"], host.Ledger.Forward(id));
        Assert.Equal(["Started"], await host.HistoryLinesAsync(id));
        Assert.Equal("intruder", (await _takeover.Store.GetAsync(id, SagaTestHost.Ct))!.LeaseOwner);
        Assert.Equal(1, lost.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 4005);
    }
}
