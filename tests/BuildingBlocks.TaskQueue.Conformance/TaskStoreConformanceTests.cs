using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Conformance;

/// <summary>
/// The contract of <see cref="ITaskStore"/> that every store keeps, pinned to the behaviour of
/// <see cref="InMemoryTaskStore"/> (the reference). Derive it once per store and implement
/// <see cref="CreateStoreAsync"/>; every test creates its own fresh, empty store on a clock that starts at
/// <see cref="TaskStoreHarness.Start"/> and only moves when the test advances it. The derived class disposes what it
/// creates (for example by tracking the stores and disposing them in <c>IAsyncLifetime.DisposeAsync</c>).
/// </summary>
/// <remarks>
/// Every time the tests use is a whole number of milliseconds after a whole-second start, so a store that keeps
/// microseconds (PostgreSQL) or ticks (SQLite) represents it exactly. Times are compared exactly only where the
/// contract defines them: the caller's enqueued-at, run-at and retry-at, "now" for finish, release, sweep and redrive,
/// and now + lease duration for lease expiries.
/// </remarks>
public abstract partial class TaskStoreConformanceTests
{
    protected static DateTimeOffset Start => TaskStoreHarness.Start;

    protected static TimeSpan Lease => TaskStoreHarness.DefaultLease;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates a fresh, empty store whose clock is <paramref name="time"/>.</summary>
    protected abstract ValueTask<ITaskStore> CreateStoreAsync(FakeTimeProvider time);

    /// <summary>A fresh store on a fresh clock at <see cref="TaskStoreHarness.Start"/>.</summary>
    protected async Task<TaskStoreHarness> StartAsync()
    {
        var time = new FakeTimeProvider(Start);
        ITaskStore store = await CreateStoreAsync(time);
        Assert.NotNull(store);
        return new TaskStoreHarness(store, time);
    }
}
