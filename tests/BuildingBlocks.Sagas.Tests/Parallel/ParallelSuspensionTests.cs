using System.Diagnostics.Metrics;
using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace BuildingBlocks.Sagas.Tests.Parallel;

public sealed class ParallelSuspensionTests
{
    [Fact]
    public async Task BranchWhoseDataGrowsTooLarge_SuspendsTheSaga_WithoutReportingALostLease_WhenASiblingFinishesLater()
    {
        Gate slow = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.MaxDataBytes = 500)
            .Saga("trip", saga => saga.Parallel("book", p =>
            {
                p.Step("slow").Execute(async (ctx, ct) =>
                {
                    b.Ledger.Record(ctx);
                    await slow.WaitIgnoringTokenAsync(ct);
                });
                p.Step("big").Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    ctx.Data.Blob = new string('x', 600);
                    return Task.CompletedTask;
                });
            })));
        using MetricCollector<long> lost = new(host.Services.GetRequiredService<IMeterFactory>(), SagasDiagnostics.MeterName, SagasDiagnostics.LeaseLostInstrument);

        string id = await host.StartSagaAsync();
        await slow.EnteredAsync();
        Assert.Equal(SagaStatus.Suspended, (await host.WaitForEndAsync(id)).Status);
        slow.Release();
        await Eventually.QuietPeriodAsync(300);

        SagaSnapshot end = (await host.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.Contains("SagaOptions.MaxDataBytes (500)", end.Error, StringComparison.Ordinal);
        Assert.Null((await host.Client.GetDataAsync<TestData>(id, SagaTestHost.Ct))!.Blob);
        Assert.Empty(lost.GetMeasurementSnapshot());
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Id == 4005);
    }
}
