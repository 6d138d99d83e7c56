namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    [Fact]
    public async Task Create_NewSaga_StoresTheRowAndItsEvents()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord saga = s.Saga("order-1", SagaStatus.Running, version: 3, data: """{"orderId":1}""", progress: "p0", error: "none yet");
        SagaEvent[] events = [s.Started(), s.Event(2, SagaEventKind.StepCompleted, "charge", 1, duration: TimeSpan.FromMilliseconds(12))];

        Assert.True(await s.Store.CreateAsync(saga, events, Ct));

        SagaStoreHarness.AssertSameRecord(saga, await s.GetAsync("order-1"));
        SagaStoreHarness.AssertSameEvents(events, await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Create_DuplicateId_ReturnsFalse_AndKeepsTheOriginalRowAndEvents()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync(s.Saga("order-1", data: "original", progress: "p-original"));
        StoredSaga before = await s.SnapshotAsync("order-1");
        s.Advance(TimeSpan.FromSeconds(1));

        SagaRecord duplicate = s.Saga("order-1", SagaStatus.Compensating, name: "other", version: 9, data: "duplicate", progress: "p-dup", error: "e",
            leaseOwner: B, leaseToken: 7, leaseExpiresAt: s.Now + Lease);
        bool created = await s.Store.CreateAsync(duplicate, [s.Started(), s.Event(2), s.Event(3)], Ct);

        Assert.False(created);
        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Create_DuplicateIdOfALeasedSaga_LeavesTheLeaseToItsHolder()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.Store.CreateAsync(s.Saga("order-1", leaseOwner: B, leaseToken: 1, leaseExpiresAt: s.Now + Lease), [s.Started()], Ct));

        await s.AssertUnchangedAsync(before);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased)));
        Assert.False(await s.CheckpointAsync(s.Checkpoint(leased, owner: B)));
    }

    [Fact]
    public async Task Create_ManyConcurrentCreatesOfOneId_ExactlyOneWins()
    {
        SagaStoreHarness s = await StartAsync();

        bool[] results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            s.Store.CreateAsync(s.Saga("order-1", data: $"writer-{i}"), [s.Event(1, SagaEventKind.Started, detail: $"writer-{i}")], Ct).AsTask()));

        int winner = Assert.Single(Enumerable.Range(0, results.Length).Where(i => results[i]));
        Assert.Equal($"writer-{winner}", (await s.GetAsync("order-1")).Data);
        SagaEvent started = Assert.Single(await s.EventsAsync("order-1"));
        Assert.Equal($"writer-{winner}", started.Detail);
    }

    [Fact]
    public async Task Create_Unleased_HasNoOwnerAndTokenZero_AndIsAcquiredWithTokenOne()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1");

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Null(stored.LeaseOwner);
        Assert.Equal(0, stored.LeaseToken);
        Assert.Null(stored.LeaseExpiresAt);

        SagaRecord acquired = await s.AcquireOneAsync();
        Assert.Equal("order-1", acquired.Id);
        Assert.Equal(1, acquired.LeaseToken);
    }

    [Fact]
    public async Task Create_AlreadyLeased_CreatorCanCheckpoint_AndNoOneAcquiresItBeforeExpiry()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord saga = await s.CreateAsync(s.Saga("order-1", leaseOwner: A, leaseToken: 1, leaseExpiresAt: s.Now + Lease), [s.Started(leaseToken: 1)]);

        SagaStoreHarness.AssertSameRecord(saga, await s.GetAsync("order-1"));
        Assert.Empty(await s.AcquireAsync(B));
        Assert.True(await s.CheckpointAsync(s.Checkpoint(saga, events: [s.Event(2, leaseToken: 1)])));
        Assert.False(await s.CheckpointAsync(s.Checkpoint(saga, owner: B)));

        s.Advance(Lease);
        SagaRecord taken = await s.AcquireOneAsync(B);
        Assert.Equal(2, taken.LeaseToken);
        Assert.Equal(B, taken.LeaseOwner);
    }

    [Fact]
    public async Task Create_AlreadyLeasedWithAHighToken_IsAcquiredAfterExpiryWithTheNextToken()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync(s.Saga("order-1", leaseOwner: A, leaseToken: 41, leaseExpiresAt: s.Now + Lease));
        s.Advance(Lease);

        Assert.Equal(42, (await s.AcquireOneAsync(B)).LeaseToken);
    }

    [Fact]
    public async Task Create_WithNoEvents_StoresTheRowWithAnEmptyHistory()
    {
        SagaStoreHarness s = await StartAsync();

        Assert.True(await s.Store.CreateAsync(s.Saga("order-1"), [], Ct));

        Assert.Empty(await s.EventsAsync("order-1"));
        Assert.Equal("order-1", (await s.GetAsync("order-1")).Id);
    }

    [Fact]
    public async Task Create_IdsDifferingOnlyInCase_AreDifferentSagas()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync(s.Saga("Order-1", data: "upper"));

        Assert.True(await s.Store.CreateAsync(s.Saga("order-1", data: "lower"), [s.Started()], Ct));

        Assert.Equal("upper", (await s.GetAsync("Order-1")).Data);
        Assert.Equal("lower", (await s.GetAsync("order-1")).Data);
        Assert.Null(await s.Store.GetAsync("ORDER-1", Ct));
    }

    [Fact]
    public async Task Create_IdsWithTrailingSpaceOrLikeWildcards_AreDistinct()
    {
        SagaStoreHarness s = await StartAsync();
        string[] ids = ["a", "a ", "a%", "a_", "ab", "a\\", "a'b"];
        foreach (string id in ids)
        {
            await s.CreateAsync(s.Saga(id, data: $"[{id}]"));
        }

        foreach (string id in ids)
        {
            Assert.Equal($"[{id}]", (await s.GetAsync(id)).Data);
            Assert.Single(await s.EventsAsync(id));
        }
    }

    [Fact]
    public async Task Create_IdOf200Characters_RoundTrips()
    {
        SagaStoreHarness s = await StartAsync();
        string id = string.Concat(Enumerable.Range(0, 200).Select(i => (char)('a' + (i % 26))));

        await s.CreateAsync(s.Saga(id));

        Assert.Equal(id, (await s.GetAsync(id)).Id);
        Assert.Equal(id, Assert.Single(await s.QueryAsync(new SagaQuery())).Id);
    }

    [Fact]
    public async Task Create_WithCanceledToken_Throws_AndStoresNothing()
    {
        SagaStoreHarness s = await StartAsync();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await s.Store.CreateAsync(s.Saga("order-1"), [s.Started()], canceled.Token));

        Assert.Null(await s.Store.GetAsync("order-1", Ct));
        Assert.Empty(await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Create_NullArguments_Throw()
    {
        SagaStoreHarness s = await StartAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.CreateAsync(null!, [], Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.CreateAsync(s.Saga("order-1"), null!, Ct));
        Assert.Null(await s.Store.GetAsync("order-1", Ct));
    }

    [Fact]
    public async Task Get_UnknownSaga_ReturnsNull()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1");

        Assert.Null(await s.Store.GetAsync("order-2", Ct));
        Assert.Null(await s.Store.GetAsync(string.Empty, Ct));
    }
}
