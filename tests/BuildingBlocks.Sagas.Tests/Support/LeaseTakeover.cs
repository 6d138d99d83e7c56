namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>
/// A store on a fake clock of its own while the coordinator runs on real time, so a test can let a lease expire on the
/// store and take the saga over as another coordinator ("intruder"), as after a pause or a network cut.
/// </summary>
public sealed class LeaseTakeover
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _storeClock = new(TimeProvider.System.GetUtcNow());

    public LeaseTakeover()
    {
        Store = new InMemorySagaStore(_storeClock);
    }

    public InMemorySagaStore Store { get; }

    /// <summary>A host on <see cref="Store"/> with one-hour leases, renewed every <paramref name="renewal"/> (default: never within a test).</summary>
    public Task<SagaTestHost> HostAsync(Action<SagaBuilder<TestData>, Ledger> define, TimeSpan? renewal = null) =>
        SagaTestHost.StartAsync(b =>
        {
            b.Store = Store;
            b.Options(o =>
            {
                o.LeaseDuration = TimeSpan.FromHours(1);
                o.LeaseRenewalInterval = renewal ?? TimeSpan.FromMinutes(20);
            });
            b.Saga("order", saga => define(saga, b.Ledger));
        });

    public void AdvanceStoreClock(TimeSpan by) => _storeClock.Advance(by);

    /// <summary>Lets the lease expire on the store's clock and acquires the saga as another coordinator.</summary>
    public async Task<SagaRecord> TakeOverAsync(string id)
    {
        SagaRecord? taken = null;
        await Eventually.HoldsAsync(
            () =>
            {
                // A renewal may slip in between; then the clock moves on again.
                _storeClock.Advance(TimeSpan.FromHours(2));
                taken = Store.AcquireAsync("intruder", ["order"], 10, TimeSpan.FromHours(1), SagaTestHost.Ct).AsTask().Result.SingleOrDefault(s => s.Id == id);
                return taken is not null;
            },
            "another coordinator acquired the saga");
        return taken!;
    }
}
