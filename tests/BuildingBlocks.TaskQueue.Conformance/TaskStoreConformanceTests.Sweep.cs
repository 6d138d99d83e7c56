namespace BuildingBlocks.TaskQueue.Conformance;

public abstract partial class TaskStoreConformanceTests
{
    [Fact]
    public async Task Sweep_ExpiredLease_RequeuesTheTaskDueNow_WithALeaseExpiredError()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(maxAttempts: 3, worker: "crashed-worker");
        s.Advance(Lease + TimeSpan.FromSeconds(2));

        Assert.Equal(new SweepResult(Requeued: 1, DeadLettered: 0), await s.SweepAsync());

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Queued, after.State);
        Assert.Equal(s.Now, after.RunAt);
        Assert.Equal(1, after.Attempts);
        Assert.Equal(task.LeaseToken, after.LeaseToken);
        Assert.Null(after.LeaseExpiresAt);
        Assert.Null(after.FinishedAt);
        Assert.NotNull(after.LastError);
        Assert.StartsWith("LeaseExpired", after.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Claim_WhenLeaseExpired_ReassignsToAnotherWorker_AndTheStaleWorkerCannotFinishIt()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask stale = await s.EnqueueAndClaimAsync(maxAttempts: 3, worker: "worker-a");
        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(stale.Id, stale.LeaseToken, Lease, "page 3", Ct));
        s.Advance(Lease);
        Assert.Equal(new SweepResult(1, 0), await s.SweepAsync());

        LeasedTask fresh = await s.ClaimOneAsync(worker: "worker-b");

        Assert.Equal(stale.Id, fresh.Id);
        Assert.True(fresh.LeaseToken > stale.LeaseToken);
        Assert.Equal(2, fresh.Attempt);
        Assert.Equal("page 3", fresh.Progress);
        Assert.StartsWith("LeaseExpired", fresh.LastError, StringComparison.Ordinal);
        Assert.Equal("worker-b", (await s.GetAsync(fresh.Id)).LeasedBy);

        // The stale worker wakes up: everything it tries is refused and changes nothing.
        TaskSnapshot before = await s.GetAsync(fresh.Id);
        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(stale.Id, stale.LeaseToken, Lease, "stale progress", Ct));
        Assert.False(await s.Store.CompleteAsync(stale.Id, stale.LeaseToken, Ct));
        Assert.False(await s.Store.FailAsync(stale.Id, stale.LeaseToken, new TaskFailure("stale", s.Now), Ct));
        Assert.False(await s.Store.FailAsync(stale.Id, stale.LeaseToken, new TaskFailure("stale", RetryAt: null), Ct));
        Assert.False(await s.Store.ReleaseAsync(stale.Id, stale.LeaseToken, Ct));
        Assert.False(await s.Store.AcknowledgeCancelAsync(stale.Id, stale.LeaseToken, Ct));
        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(fresh.Id));

        // The new holder finishes it.
        Assert.True(await s.Store.CompleteAsync(fresh.Id, fresh.LeaseToken, Ct));
        Assert.Equal(TaskState.Completed, (await s.GetAsync(fresh.Id)).State);
    }

    [Fact]
    public async Task Sweep_LeaseExpiredOnTheLastAttempt_DeadLettersTheTask()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync(maxAttempts: 2);
        LeasedTask first = await s.ClaimOneAsync();
        Assert.True(await s.Store.FailAsync(id, first.LeaseToken, new TaskFailure("first", s.Now), Ct));
        LeasedTask last = await s.ClaimOneAsync();
        Assert.Equal(2, last.Attempt);
        s.Advance(Lease + TimeSpan.FromMilliseconds(1));

        Assert.Equal(new SweepResult(Requeued: 0, DeadLettered: 1), await s.SweepAsync());

        TaskSnapshot after = await s.GetAsync(id);
        Assert.Equal(TaskState.DeadLettered, after.State);
        Assert.Equal(s.Now, after.FinishedAt);
        Assert.Equal(2, after.Attempts);
        Assert.Null(after.LeaseExpiresAt);
        Assert.StartsWith("LeaseExpired", after.LastError, StringComparison.Ordinal);
        Assert.Empty(await s.ClaimAsync());
        Assert.False(await s.Store.CompleteAsync(id, last.LeaseToken, Ct));
    }

    [Fact]
    public async Task Sweep_ExpiredLeaseWithACancelRequest_CancelsTheTask()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(maxAttempts: 5);
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));
        s.Advance(Lease);

        Assert.Equal(new SweepResult(Requeued: 0, DeadLettered: 0), await s.SweepAsync());

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Canceled, after.State);
        Assert.Equal(s.Now, after.FinishedAt);
        Assert.Null(after.LeaseExpiresAt);
        Assert.Empty(await s.ClaimAsync());
        Assert.False(await s.Store.AcknowledgeCancelAsync(task.Id, task.LeaseToken, Ct));
    }

    [Fact]
    public async Task Sweep_ExpiredLeaseWithACancelRequestOnTheLastAttempt_CancelsRatherThanDeadLetters()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(maxAttempts: 1);
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));
        s.Advance(Lease);

        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());

        Assert.Equal(TaskState.Canceled, (await s.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task Sweep_LeaseThatHasNotExpired_IsLeftUntouched()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        s.Advance(Lease - TimeSpan.FromMilliseconds(1));
        TaskSnapshot before = await s.GetAsync(task.Id);

        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
        Assert.True(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));
    }

    [Fact]
    public async Task Sweep_LeaseExpiringExactlyNow_IsRecovered()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        s.Advance(Lease);

        Assert.Equal(new SweepResult(1, 0), await s.SweepAsync());

        Assert.Equal(TaskState.Queued, (await s.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task Sweep_CountsRequeuedAndDeadLetteredTasks_AcrossQueues()
    {
        TaskStoreHarness s = await StartAsync();
        await s.EnqueueAndClaimAsync("a", maxAttempts: 3);
        await s.EnqueueAndClaimAsync("b", maxAttempts: 2);
        LeasedTask last = await s.EnqueueAndClaimAsync("c", maxAttempts: 1);
        LeasedTask longLease = await s.EnqueueAndClaimAsync("d", lease: TimeSpan.FromMinutes(5));
        await s.EnqueueAsync("e");
        s.Advance(Lease + TimeSpan.FromSeconds(1));

        Assert.Equal(new SweepResult(Requeued: 2, DeadLettered: 1), await s.SweepAsync());
        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());

        Assert.Equal(TaskState.DeadLettered, (await s.GetAsync(last.Id)).State);
        Assert.Equal(TaskState.Leased, (await s.GetAsync(longLease.Id)).State);
        Assert.Single(await s.ClaimAsync("a"));
        Assert.Single(await s.ClaimAsync("b"));
        Assert.Single(await s.ClaimAsync("e"));
    }

    [Fact]
    public async Task Sweep_OnAnEmptyStore_RecoversNothing()
    {
        TaskStoreHarness s = await StartAsync();

        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());
    }

    [Fact]
    public async Task Claim_NextAttempt_ReadsTheProgressStoredByThePreviousAttempt()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask first = await s.EnqueueAndClaimAsync(maxAttempts: 4);
        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(first.Id, first.LeaseToken, Lease, "{\"cursor\":100}", Ct));
        s.Advance(Lease);
        await s.SweepAsync();

        LeasedTask second = await s.ClaimOneAsync();
        Assert.Equal("{\"cursor\":100}", second.Progress);
        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(second.Id, second.LeaseToken, Lease, "{\"cursor\":250}", Ct));
        Assert.True(await s.Store.FailAsync(second.Id, second.LeaseToken, new TaskFailure("flaky", s.Now), Ct));

        LeasedTask third = await s.ClaimOneAsync();
        Assert.Equal("{\"cursor\":250}", third.Progress);
        Assert.True(await s.Store.ReleaseAsync(third.Id, third.LeaseToken, Ct));

        LeasedTask fourth = await s.ClaimOneAsync();
        Assert.Equal("{\"cursor\":250}", fourth.Progress);
        Assert.Equal(3, fourth.Attempt);
    }
}
