using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Conformance;

/// <summary>
/// The contract of <see cref="ISagaStore"/> that every store keeps, pinned to the behaviour of
/// <see cref="InMemorySagaStore"/> (the reference). Derive it once per store and implement
/// <see cref="CreateStoreAsync"/>; every test creates its own fresh, empty store on a clock that starts at
/// <see cref="SagaStoreHarness.Start"/> and only moves when the test advances it. The derived class disposes what it
/// creates (for example by tracking the stores and disposing them in <c>IAsyncLifetime.DisposeAsync</c>).
/// </summary>
/// <remarks>
/// <para>
/// Every time the tests use is a whole number of microseconds after a whole-second UTC start, so a store that keeps
/// microseconds (PostgreSQL) or ticks (SQLite) represents it exactly. Times are compared by instant, and times given in
/// UTC must come back in UTC.
/// </para>
/// <para>
/// Ids and names in ordering tests are chosen so UTF-16 ordinal order (the contract) and UTF-8 byte order (SQLite
/// <c>BINARY</c>, PostgreSQL <c>COLLATE "C"</c>) agree: no characters outside the Basic Multilingual Plane in ordered ids.
/// Text never contains U+0000 (PostgreSQL <c>text</c> cannot hold it).
/// </para>
/// </remarks>
public abstract partial class SagaStoreConformanceTests
{
    protected const string A = SagaStoreHarness.OwnerA;

    protected const string B = SagaStoreHarness.OwnerB;

    protected static DateTimeOffset Start => SagaStoreHarness.Start;

    protected static TimeSpan Lease => SagaStoreHarness.DefaultLease;

    protected static TimeSpan Microsecond => SagaStoreHarness.Microsecond;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates a fresh, empty store whose clock is <paramref name="time"/>.</summary>
    protected abstract ValueTask<ISagaStore> CreateStoreAsync(FakeTimeProvider time);

    /// <summary>A fresh store on a fresh clock at <see cref="SagaStoreHarness.Start"/>.</summary>
    protected async Task<SagaStoreHarness> StartAsync()
    {
        var time = new FakeTimeProvider(Start);
        ISagaStore store = await CreateStoreAsync(time);
        Assert.NotNull(store);
        return new SagaStoreHarness(store, time);
    }
}
