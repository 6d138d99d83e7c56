using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Tests.InMemory;

/// <summary>What only the in-memory store has, beyond the shared conformance suite.</summary>
public sealed class InMemoryTaskStoreTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static TaskInsert Insert(string queue = "orders", string? uniqueKey = null) => new()
    {
        Queue = queue,
        Payload = new byte[] { 1 },
        Priority = 0,
        EnqueuedAt = Start,
        RunAt = Start,
        MaxAttempts = 3,
        UniqueKey = uniqueKey,
    };

    [Fact]
    public void Constructor_NullTimeProvider_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new InMemoryTaskStore(null!));
    }

    [Fact]
    public async Task Count_CountsTasksInEveryState_UntilPruned()
    {
        var store = new InMemoryTaskStore(_time);
        Assert.Equal(0, store.Count);

        await store.EnqueueAsync([Insert(), Insert(), Insert("other")], Ct);
        LeasedTask leased = Assert.Single(await store.ClaimAsync(new ClaimRequest("other", "w", 1, TimeSpan.FromSeconds(30)), Ct));
        Assert.True(await store.CompleteAsync(leased.Id, leased.LeaseToken, Ct));
        Assert.Equal(3, store.Count);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await store.PruneAsync(_time.GetUtcNow(), _time.GetUtcNow(), Ct));
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public async Task Claim_MaxCountBelowOne_Throws()
    {
        var store = new InMemoryTaskStore(_time);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await store.ClaimAsync(new ClaimRequest("orders", "w", 0, TimeSpan.FromSeconds(30)), Ct));
    }

    [Fact]
    public async Task List_InvalidQuery_Throws()
    {
        var store = new InMemoryTaskStore(_time);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ListAsync(new TaskQuery { Limit = 10_001 }, Ct));
    }

    [Fact]
    public async Task Enqueue_BatchWithAnInsertThatHasNoQueue_Throws_AndStoresNothing()
    {
        // A batch is all or nothing, whatever element is bad: the store must not keep the tasks before it, nor a
        // half-stored task without a queue, nor the unique keys of the refused batch.
        var store = new InMemoryTaskStore(_time);
        TaskInsert noQueue = new()
        {
            Queue = null!,
            Payload = new byte[] { 2 },
            Priority = 0,
            EnqueuedAt = Start,
            RunAt = Start,
            MaxAttempts = 3,
        };

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.EnqueueAsync([Insert(uniqueKey: "k"), noQueue], Ct));

        Assert.Equal(0, store.Count);
        Assert.Empty(await store.GetStatisticsAsync(Ct));
        Assert.True(Assert.Single(await store.EnqueueAsync([Insert(uniqueKey: "k")], Ct)).Created);
    }
}
