namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    [Fact]
    public async Task Renew_HeldLeases_ExtendToNowPlusDuration_AndReturnNothingLost()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateManyAsync(["order-1", "order-2"]);
        IReadOnlyList<SagaRecord> leased = await s.AcquireAsync(A);
        StoredSaga before = await s.SnapshotAsync("order-1");
        s.Advance(TimeSpan.FromSeconds(20) + (5 * Microsecond));
        TimeSpan duration = TimeSpan.FromSeconds(40) + (7 * Microsecond);

        IReadOnlyList<string> lost = await s.Store.RenewLeasesAsync(A, [.. leased.Select(r => new SagaLease(r.Id, r.LeaseToken))], duration, Ct);

        Assert.Empty(lost);
        foreach (SagaRecord saga in leased)
        {
            SagaRecord stored = await s.GetAsync(saga.Id);
            SagaStoreHarness.AssertSameRecord(saga with { LeaseExpiresAt = s.Now + duration }, stored);
        }

        SagaStoreHarness.AssertSameEvents(before.Events, await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Renew_ARenewedLease_KeepsOthersFromAcquiringPastTheOriginalExpiry()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease - Microsecond);
        Assert.Empty(await s.RenewAsync(A, new SagaLease("order-1", leased.LeaseToken)));

        s.Advance(Lease - Microsecond);
        Assert.Empty(await s.AcquireAsync(B));

        s.Advance(Microsecond);
        Assert.Equal(2, (await s.AcquireOneAsync(B)).LeaseToken);
    }

    [Fact]
    public async Task Renew_ExpiredButNotReacquired_IsRenewed()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease * 3);

        Assert.Empty(await s.RenewAsync(A, new SagaLease("order-1", leased.LeaseToken)));

        Assert.Equal(s.Now + Lease, (await s.GetAsync("order-1")).LeaseExpiresAt);
        Assert.Empty(await s.AcquireAsync(B));
    }

    [Fact]
    public async Task Renew_ReturnsExactlyTheIdsNoLongerHeld_AndChangesNone_OfThem()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateManyAsync(["held", "taken-over", "released", "finished", "wrong-token"]);
        IReadOnlyList<SagaRecord> byA = await s.AcquireAsync(A);
        Dictionary<string, SagaRecord> a = byA.ToDictionary(r => r.Id);
        await s.CreateAsync(s.Saga("other-owner", leaseOwner: B, leaseToken: 1, leaseExpiresAt: s.Now + (Lease * 10)));

        // taken-over: A's lease expires and B acquires it; the others A renews just before.
        s.Advance(Lease - Microsecond);
        Assert.Empty(await s.RenewAsync(A, [.. byA.Where(r => r.Id != "taken-over").Select(r => new SagaLease(r.Id, r.LeaseToken))]));
        s.Advance(Microsecond);
        SagaRecord takenOver = await s.AcquireOneAsync(B);
        Assert.Equal("taken-over", takenOver.Id);
        await s.ReleaseAsync(A, new SagaLease("released", a["released"].LeaseToken));
        Assert.True(await s.CheckpointAsync(s.Checkpoint(a["finished"], SagaStatus.Completed, releaseLease: true)));
        StoredSaga[] before = await Task.WhenAll(new[] { "taken-over", "released", "finished", "wrong-token", "other-owner" }.Select(s.SnapshotAsync));
        s.Advance(TimeSpan.FromSeconds(1));

        IReadOnlyList<string> lost = await s.RenewAsync(
            A,
            new SagaLease("held", a["held"].LeaseToken),
            new SagaLease("taken-over", a["taken-over"].LeaseToken),
            new SagaLease("released", a["released"].LeaseToken),
            new SagaLease("finished", a["finished"].LeaseToken),
            new SagaLease("wrong-token", a["wrong-token"].LeaseToken + 1),
            new SagaLease("other-owner", 1),
            new SagaLease("unknown", 1));

        Assert.Equal(["finished", "other-owner", "released", "taken-over", "unknown", "wrong-token"], lost.Order(StringComparer.Ordinal));
        Assert.Equal(s.Now + Lease, (await s.GetAsync("held")).LeaseExpiresAt);
        foreach (StoredSaga snapshot in before)
        {
            await s.AssertUnchangedAsync(snapshot);
        }

        Assert.Null(await s.Store.GetAsync("unknown", Ct));
    }

    [Fact]
    public async Task Renew_NoLeases_ReturnsEmpty()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAndAcquireAsync("order-1");

        Assert.Empty(await s.RenewAsync(A));
    }

    [Fact]
    public async Task Renew_InvalidArguments_Throw()
    {
        SagaStoreHarness s = await StartAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.Store.RenewLeasesAsync(string.Empty, [], Lease, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.RenewLeasesAsync(A, null!, Lease, Ct));
    }

    [Fact]
    public async Task Release_HeldLease_ClearsOwnerAndExpiry_KeepsTokenAndEverythingElse()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");
        s.Advance(TimeSpan.FromSeconds(1));

        await s.ReleaseAsync(A, new SagaLease("order-1", leased.LeaseToken));

        SagaStoreHarness.AssertSameRecord(leased with { LeaseOwner = null, LeaseExpiresAt = null }, await s.GetAsync("order-1"));
        SagaStoreHarness.AssertSameEvents(before.Events, await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Release_LeasesNoLongerHeld_AreIgnored()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord oldLease = await s.CreateAndAcquireAsync("taken-over");
        await s.TakeOverAsync(oldLease);
        await s.CreateAsync(s.Saga("other-owner", leaseOwner: B, leaseToken: 4, leaseExpiresAt: s.Now + Lease));
        await s.CreateAsync("never-leased");
        StoredSaga[] before = await Task.WhenAll(new[] { "taken-over", "other-owner", "never-leased" }.Select(s.SnapshotAsync));

        await s.ReleaseAsync(
            A,
            new SagaLease("taken-over", oldLease.LeaseToken),
            new SagaLease("other-owner", 4),
            new SagaLease("never-leased", 0),
            new SagaLease("unknown", 1));

        foreach (StoredSaga snapshot in before)
        {
            await s.AssertUnchangedAsync(snapshot);
        }

        Assert.Null(await s.Store.GetAsync("unknown", Ct));
    }

    [Fact]
    public async Task Release_OfSomeLeases_LeavesTheOthersHeld()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateManyAsync(["order-1", "order-2", "order-3"]);
        Dictionary<string, SagaRecord> leased = (await s.AcquireAsync(A)).ToDictionary(r => r.Id);

        await s.ReleaseAsync(A, new SagaLease("order-1", leased["order-1"].LeaseToken), new SagaLease("order-3", leased["order-3"].LeaseToken));

        Assert.Null((await s.GetAsync("order-1")).LeaseOwner);
        Assert.Equal(A, (await s.GetAsync("order-2")).LeaseOwner);
        Assert.Null((await s.GetAsync("order-3")).LeaseOwner);
        Assert.Equal(["order-1", "order-3"], (await s.AcquireAsync(B)).Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Release_ExpiredButNotReacquired_IsReleased()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease * 2);

        await s.ReleaseAsync(A, new SagaLease("order-1", leased.LeaseToken));

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Null(stored.LeaseOwner);
        Assert.Null(stored.LeaseExpiresAt);
        Assert.Equal(1, stored.LeaseToken);
    }

    [Fact]
    public async Task Release_ThenRenew_ReportsTheLeaseLost()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        await s.ReleaseAsync(A, new SagaLease("order-1", leased.LeaseToken));

        Assert.Equal(["order-1"], await s.RenewAsync(A, new SagaLease("order-1", leased.LeaseToken)));
        Assert.Null((await s.GetAsync("order-1")).LeaseOwner);
    }

    [Fact]
    public async Task Release_NoLeases_DoesNothing()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");

        await s.ReleaseAsync(A);

        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task Release_InvalidArguments_Throw()
    {
        SagaStoreHarness s = await StartAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.Store.ReleaseLeasesAsync(string.Empty, [], Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.ReleaseLeasesAsync(A, null!, Ct));
    }
}
