namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    [Fact]
    public async Task Checkpoint_ByTheHolder_UpdatesTheRow_AppendsEvents_AndKeepsTheLease()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(TimeSpan.FromSeconds(2) + (123 * Microsecond));

        SagaCheckpoint checkpoint = s.Checkpoint(
            leased, SagaStatus.Compensating, data: "d1", progress: "p1", error: "charge failed",
            events: [s.Event(2, SagaEventKind.StepFailed, "charge", 3, duration: TimeSpan.FromMilliseconds(5), detail: "boom", leaseToken: leased.LeaseToken)]);
        Assert.True(await s.CheckpointAsync(checkpoint));

        SagaRecord stored = await s.GetAsync("order-1");
        SagaStoreHarness.AssertSameRecord(
            leased with { Status = SagaStatus.Compensating, Data = "d1", Progress = "p1", Error = "charge failed", UpdatedAt = checkpoint.UpdatedAt },
            stored);
        SagaStoreHarness.AssertSameEvents([s.Started() with { At = Start }, .. checkpoint.Events], await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Checkpoint_ErrorNull_ClearsTheStoredError_AndErrorSet_ReplacesIt()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync(s.Saga("order-1", error: "old error"));
        SagaRecord leased = await s.AcquireOneAsync();

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, error: "new error")));
        Assert.Equal("new error", (await s.GetAsync("order-1")).Error);

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, error: null)));
        Assert.Null((await s.GetAsync("order-1")).Error);
    }

    [Fact]
    public async Task Checkpoint_WithReleaseLease_ClearsOwnerAndExpiry_KeepsTheToken_AndTheSagaIsAcquirableAtOnce()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, data: "handed back", releaseLease: true)));

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Null(stored.LeaseOwner);
        Assert.Null(stored.LeaseExpiresAt);
        Assert.Equal(leased.LeaseToken, stored.LeaseToken);
        Assert.Equal("handed back", stored.Data);

        SagaRecord again = await s.AcquireOneAsync(B);
        Assert.Equal(leased.LeaseToken + 1, again.LeaseToken);
        Assert.Equal("handed back", again.Data);
    }

    [Fact]
    public async Task Checkpoint_ToAFinalStatusWithRelease_IsNeverAcquiredAgain()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Completed, releaseLease: true, events: [s.Event(2, SagaEventKind.Completed, step: null)])));
        s.Advance(Lease * 10);

        Assert.Empty(await s.AcquireAsync(B));
        Assert.Equal(SagaStatus.Completed, (await s.GetAsync("order-1")).Status);
    }

    [Fact]
    public async Task Checkpoint_ToAParkedStatusWithoutRelease_IsNotAcquiredAfterExpiry()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Suspended)));
        s.Advance(Lease);

        Assert.Empty(await s.AcquireAsync(B));
    }

    [Fact]
    public async Task Checkpoint_WrongOwner_IsRefused_AndNothingChanges()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");

        bool written = await s.CheckpointAsync(s.Checkpoint(leased, data: "intruder", owner: B, events: [s.Event(2)], releaseLease: true));

        Assert.False(written);
        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Checkpoint_OwnerNameDifferingOnlyInCase_IsRefused()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.CheckpointAsync(s.Checkpoint(leased, owner: A.ToUpperInvariant(), events: [s.Event(2)])));

        await s.AssertUnchangedAsync(before);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(long.MaxValue)]
    public async Task Checkpoint_WrongToken_IsRefused_AndNothingChanges(long offset)
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");
        long token = offset == long.MaxValue ? long.MaxValue : leased.LeaseToken + offset;

        Assert.False(await s.CheckpointAsync(s.Checkpoint(leased, data: "stale", token: token, events: [s.Event(2)])));

        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Checkpoint_WhenLeaseTakenOver_IsRefused_AndNothingChanges()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leasedByA = await s.CreateAndAcquireAsync("order-1");
        SagaRecord leasedByB = await s.TakeOverAsync(leasedByA);
        StoredSaga before = await s.SnapshotAsync("order-1");

        bool written = await s.CheckpointAsync(s.Checkpoint(leasedByA, SagaStatus.Completed, data: "from A", events: [s.Event(2, leaseToken: 1)], releaseLease: true));

        Assert.False(written);
        await s.AssertUnchangedAsync(before);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leasedByB, data: "from B", events: [s.Event(2, leaseToken: 2)])));
        Assert.Equal("from B", (await s.GetAsync("order-1")).Data);
    }

    [Fact]
    public async Task Checkpoint_WhenTheSameOwnerReacquired_TheOldTokenIsRefused()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord first = await s.CreateAndAcquireAsync("order-1");
        SagaRecord second = await s.TakeOverAsync(first, newOwner: A);
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.CheckpointAsync(s.Checkpoint(first, data: "old incarnation")));

        await s.AssertUnchangedAsync(before);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(second, data: "new incarnation")));
    }

    [Fact]
    public async Task Checkpoint_AfterTheLeaseWasReleased_IsRefused_AndNothingChanges()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        await s.ReleaseAsync(A, new SagaLease("order-1", leased.LeaseToken));
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.CheckpointAsync(s.Checkpoint(leased, data: "after release", events: [s.Event(2)])));

        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Checkpoint_AfterACheckpointReleasedTheLease_IsRefused()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, data: "last", releaseLease: true)));
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.CheckpointAsync(s.Checkpoint(leased, data: "one more", events: [s.Event(2)])));

        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Checkpoint_LeaseExpiredButNotReacquired_StillWrites_AndLeavesTheExpiryAsItWas()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease + TimeSpan.FromMinutes(5));

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, data: "late but still mine", events: [s.Event(2, leaseToken: 1)])));

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Equal("late but still mine", stored.Data);
        Assert.Equal(A, stored.LeaseOwner);
        Assert.Equal(leased.LeaseToken, stored.LeaseToken);
        Assert.Equal(leased.LeaseExpiresAt, stored.LeaseExpiresAt);
        Assert.Equal(2, (await s.EventsAsync("order-1")).Count);

        // The lease is still expired: another coordinator may take it, and then A is fenced off.
        SagaRecord taken = await s.AcquireOneAsync(B);
        Assert.Equal("late but still mine", taken.Data);
        Assert.False(await s.CheckpointAsync(s.Checkpoint(leased, data: "too late")));
    }

    [Fact]
    public async Task Checkpoint_AfterAnOperatorTransitionClearedAnExpiredLease_IsRefused()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease);
        Assert.True(await s.TransitionAsync(new SagaTransition
        {
            SagaId = "order-1", ExpectedStatus = SagaStatus.Running, Status = SagaStatus.Suspended, UpdatedAt = s.Now, Events = [s.Event(2, SagaEventKind.Suspended, step: null)],
        }));
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.CheckpointAsync(s.Checkpoint(leased, data: "stale coordinator")));

        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Checkpoint_UnknownSaga_ReturnsFalse_AndCreatesNothing()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1");

        SagaRecord ghost = s.Saga("order-2", leaseOwner: A, leaseToken: 1);
        Assert.False(await s.CheckpointAsync(s.Checkpoint(ghost, events: [s.Event(1)])));

        Assert.Null(await s.Store.GetAsync("order-2", Ct));
        Assert.Empty(await s.EventsAsync("order-2"));
    }

    [Fact]
    public async Task Checkpoint_OnANeverLeasedSaga_IsRefused_WhateverTheOwner()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");

        Assert.False(await s.CheckpointAsync(s.Checkpoint(before.Saga!, owner: A, token: 0, events: [s.Event(2)])));
        Assert.False(await s.CheckpointAsync(s.Checkpoint(before.Saga!, owner: A, token: 1, events: [s.Event(2)])));

        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Checkpoint_WithNoEvents_ChangesOnlyTheRow()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, data: "row only", events: [])));

        Assert.Equal("row only", (await s.GetAsync("order-1")).Data);
        Assert.Single(await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Checkpoint_UpdatedAt_IsStoredAsGiven_EvenWhenEarlierThanBefore()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        DateTimeOffset given = Start.AddMinutes(-3).AddTicks(70);

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, updatedAt: given)));

        Assert.Equal(given, (await s.GetAsync("order-1")).UpdatedAt);
    }

    [Fact]
    public async Task Checkpoint_ConcurrentStaleAndCurrentHolders_OnlyTheCurrentHoldersWritesLand()
    {
        SagaStoreHarness s = await StartAsync();
        const int Count = 40;
        string[] ids = [.. Enumerable.Range(0, Count).Select(i => $"order-{i:D3}")];
        await s.CreateManyAsync(ids);
        IReadOnlyList<SagaRecord> byA = await s.AcquireAsync(A, Count);
        Assert.Equal(Count, byA.Count);
        s.Advance(Lease);
        IReadOnlyList<SagaRecord> byB = await s.AcquireAsync(B, Count);
        Assert.Equal(Count, byB.Count);

        var writes = new List<(bool Stale, string Id, Task<bool> Written)>();
        foreach (SagaRecord saga in byA)
        {
            writes.Add((true, saga.Id, s.CheckpointAsync(s.Checkpoint(saga, data: $"A:{saga.Id}", events: [s.Event(2, leaseToken: saga.LeaseToken)], releaseLease: true))));
        }

        foreach (SagaRecord saga in byB)
        {
            writes.Add((false, saga.Id, s.CheckpointAsync(s.Checkpoint(saga, data: $"B:{saga.Id}", events: [s.Event(2, leaseToken: saga.LeaseToken)]))));
        }

        bool[] written = await Task.WhenAll(writes.Select(w => w.Written));

        for (int i = 0; i < writes.Count; i++)
        {
            Assert.True(written[i] == !writes[i].Stale, $"{(writes[i].Stale ? "stale" : "current")} checkpoint of {writes[i].Id} returned {written[i]}");
        }
        foreach (string id in ids)
        {
            SagaRecord stored = await s.GetAsync(id);
            Assert.Equal($"B:{id}", stored.Data);
            Assert.Equal(B, stored.LeaseOwner);
            Assert.Equal(2, stored.LeaseToken);
            IReadOnlyList<SagaEvent> events = await s.EventsAsync(id);
            Assert.Equal([0L, 2L], events.Select(e => e.LeaseToken));
        }
    }

    [Fact]
    public async Task Checkpoint_NullArgument_Throws()
    {
        SagaStoreHarness s = await StartAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.CheckpointAsync(null!, Ct));
    }
}
