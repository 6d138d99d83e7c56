using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Leases;

/// <summary>
/// This coordinator's own lease expires while it runs the saga (renewals failed or the process was paused) and its acquire
/// loop takes the saga again: a second run of the same saga in the same coordinator, with a higher token.
/// </summary>
public sealed class SelfReacquireTests
{
    [Fact]
    public async Task SagaReacquiredByItsOwnCoordinator_TheNewRunStillStopsGracefully_WhenTheOldRunEndsFirst()
    {
        LeaseTakeover takeover = new();
        Gate charge = new();
        Gate ship = new();
        await using SagaTestHost host = await takeover.HostAsync((saga, ledger) =>
        {
            saga.Step("charge").Execute(async (ctx, ct) =>
            {
                ledger.Record(ctx);
                await charge.WaitIgnoringTokenAsync(ct);
            });
            saga.Step("ship").Execute(async (ctx, ct) =>
            {
                ledger.Record(ctx);
                await ship.WaitAsync(ct);
            });
            saga.Step("mail").Execute(ledger.Ok<TestData>());
        });
        string id = await host.StartSagaAsync();
        await charge.EnteredAsync();

        // The lease runs out on the store's clock; this coordinator's own poll takes the saga again (token 2).
        await Eventually.HoldsAsync(
            async () =>
            {
                takeover.AdvanceStoreClock(TimeSpan.FromHours(2));
                await Task.Delay(20, SagaTestHost.Ct);
                return host.Ledger.Attempts(id, "charge").Count == 2;
            },
            () => "the coordinator ran the saga a second time");
        Assert.Equal(2, (await takeover.Store.GetAsync(id, SagaTestHost.Ct))!.LeaseToken);

        // Both runs finish charge: the old run's write is refused (it ends), the new one goes on to ship.
        charge.Release();
        await ship.EnteredAsync();
        await Eventually.HoldsAsync(() => host.Logs.GetSnapshot().Any(r => r.Id.Id == 4005), "the old run logged LeaseLost");

        // A graceful stop must reach the new run: ship finishes, mail never starts.
        Task stopping = host.StopAsync();
        await Eventually.QuietPeriodAsync();
        ship.Release();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        await Eventually.QuietPeriodAsync();

        Assert.DoesNotContain("mail", host.Ledger.Forward(id));
        SagaRecord after = (await takeover.Store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, after.Status);
        Assert.Null(after.LeaseOwner);
    }
}
