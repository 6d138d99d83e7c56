namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    private static SagaTransition Retry(string id, DateTimeOffset at, SagaStatus expected = SagaStatus.Suspended, SagaStatus status = SagaStatus.Running,
        string? progress = "retried", string? error = null, IReadOnlyList<SagaEvent>? events = null) => new()
        {
            SagaId = id,
            ExpectedStatus = expected,
            Status = status,
            Progress = progress,
            Error = error,
            UpdatedAt = at,
            Events = events ?? [],
        };

    [Fact]
    public async Task Transition_ParkedSagaWithTheExpectedStatus_AppliesAndAppendsEvents()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord parked = await s.CreateAsync(s.Saga("order-1", SagaStatus.Suspended, data: "data", progress: "old", error: "unknown version"));
        s.Advance(TimeSpan.FromMinutes(1) + (9 * Microsecond));
        SagaEvent retried = s.Event(2, SagaEventKind.Retried, step: null, attempt: 0, detail: "operator: retry");

        Assert.True(await s.TransitionAsync(Retry("order-1", s.Now, progress: "reset", error: null, events: [retried])));

        SagaStoreHarness.AssertSameRecord(parked with { Status = SagaStatus.Running, Progress = "reset", Error = null, UpdatedAt = s.Now }, await s.GetAsync("order-1"));
        SagaStoreHarness.AssertSameEvents([s.Started() with { At = Start }, retried], await s.EventsAsync("order-1"));
        Assert.Equal(1, (await s.AcquireOneAsync()).LeaseToken);
    }

    [Fact]
    public async Task Transition_ProgressNull_KeepsTheStoredProgress_ErrorSet_ReplacesTheError()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync(s.Saga("order-1", SagaStatus.CompensationFailed, progress: "kept", error: "refund failed"));

        Assert.True(await s.TransitionAsync(Retry("order-1", s.Now, SagaStatus.CompensationFailed, SagaStatus.Resolved, progress: null, error: "resolved by hand")));

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Equal(SagaStatus.Resolved, stored.Status);
        Assert.Equal("kept", stored.Progress);
        Assert.Equal("resolved by hand", stored.Error);
    }

    [Fact]
    public async Task Transition_OtherStatusThanExpected_IsRefused_AndNothingChanges()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync(s.Saga("order-1", SagaStatus.CompensationFailed));
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.TransitionAsync(Retry("order-1", s.Now, expected: SagaStatus.Suspended, events: [s.Event(2, SagaEventKind.Retried)])));

        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Transition_UnknownSaga_ReturnsFalse_AndCreatesNothing()
    {
        SagaStoreHarness s = await StartAsync();

        Assert.False(await s.TransitionAsync(Retry("order-1", s.Now, events: [s.Event(1, SagaEventKind.Retried)])));

        Assert.Null(await s.Store.GetAsync("order-1", Ct));
        Assert.Empty(await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Transition_SagaWithALiveLease_IsRefused_AndNothingChanges()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease - Microsecond);
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.TransitionAsync(Retry("order-1", s.Now, SagaStatus.Running, SagaStatus.Suspended, events: [s.Event(2, SagaEventKind.Suspended)])));

        await s.AssertUnchangedAsync(before);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased)));
    }

    [Fact]
    public async Task Transition_ParkedSagaStillLeasedByItsCoordinator_IsRefusedUntilTheLeaseExpires()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Suspended)));

        Assert.False(await s.TransitionAsync(Retry("order-1", s.Now)));

        s.Advance(Lease);
        Assert.True(await s.TransitionAsync(Retry("order-1", s.Now)));
    }

    [Fact]
    public async Task Transition_AtTheExpiryInstant_Applies_ClearsTheLease_AndKeepsTheToken()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease);

        Assert.True(await s.TransitionAsync(Retry("order-1", s.Now, SagaStatus.Running, SagaStatus.Suspended, progress: null, error: "stuck")));

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Equal(SagaStatus.Suspended, stored.Status);
        Assert.Null(stored.LeaseOwner);
        Assert.Null(stored.LeaseExpiresAt);
        Assert.Equal(leased.LeaseToken, stored.LeaseToken);
        Assert.Equal(["order-1"], await s.RenewAsync(A, new SagaLease("order-1", leased.LeaseToken)));
    }

    [Fact]
    public async Task Transition_BackToRunning_IsAcquiredWithTheNextToken()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Suspended, releaseLease: true)));

        Assert.True(await s.TransitionAsync(Retry("order-1", s.Now)));

        SagaRecord again = await s.AcquireOneAsync(B);
        Assert.Equal(leased.LeaseToken + 1, again.LeaseToken);
        Assert.Equal(SagaStatus.Running, again.Status);
    }

    [Fact]
    public async Task Transition_ToAFinalStatus_IsNeverAcquired()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1", SagaStatus.Suspended);

        Assert.True(await s.TransitionAsync(Retry("order-1", s.Now, status: SagaStatus.Resolved, events: [s.Event(2, SagaEventKind.Resolved)])));

        Assert.Empty(await s.AcquireAsync());
        Assert.Equal(SagaStatus.Resolved, (await s.GetAsync("order-1")).Status);
    }

    [Fact]
    public async Task Transition_TwoOperatorsRacing_OnlyOneApplies()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1", SagaStatus.Suspended);

        bool[] applied = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            s.Store.TransitionAsync(Retry("order-1", s.Now, status: i % 2 == 0 ? SagaStatus.Running : SagaStatus.Resolved, events: [s.Event(2, SagaEventKind.Retried, detail: $"op-{i}")]), Ct).AsTask()));

        int winner = Assert.Single(Enumerable.Range(0, applied.Length).Where(i => applied[i]));
        Assert.Equal($"op-{winner}", (await s.EventsAsync("order-1"))[1].Detail);
        Assert.Equal(2, (await s.EventsAsync("order-1")).Count);
    }

    [Fact]
    public async Task Transition_NullArgument_Throws()
    {
        SagaStoreHarness s = await StartAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.TransitionAsync(null!, Ct));
    }
}
