namespace BuildingBlocks.TaskQueue.Conformance;

public abstract partial class TaskStoreConformanceTests
{
    [Fact]
    public async Task Heartbeat_ExtendsTheLeaseToNowPlusTheGivenDuration_SoTheSweeperLeavesIt()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        s.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, TimeSpan.FromSeconds(40), progress: null, Ct));

        Assert.Equal(s.Now + TimeSpan.FromSeconds(40), (await s.GetAsync(task.Id)).LeaseExpiresAt);
        s.Advance(TimeSpan.FromSeconds(39));
        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());
        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Leased, after.State);
        Assert.Equal(task.LeaseToken, after.LeaseToken);
        Assert.Equal(1, after.Attempts);
        Assert.True(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));
    }

    [Fact]
    public async Task Heartbeat_CanShortenTheLease()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(lease: TimeSpan.FromMinutes(10));

        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, TimeSpan.FromSeconds(5), progress: null, Ct));

        Assert.Equal(s.Now + TimeSpan.FromSeconds(5), (await s.GetAsync(task.Id)).LeaseExpiresAt);
        s.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(new SweepResult(1, 0), await s.SweepAsync());
    }

    [Fact]
    public async Task Heartbeat_StoresProgress_AndNullProgressKeepsTheStoredOne()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();

        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, "{\"page\":1}", Ct));
        Assert.Equal("{\"page\":1}", (await s.GetAsync(task.Id)).Progress);

        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, "{\"page\":2}", Ct));
        Assert.Equal("{\"page\":2}", (await s.GetAsync(task.Id)).Progress);

        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, progress: null, Ct));
        Assert.Equal("{\"page\":2}", (await s.GetAsync(task.Id)).Progress);
    }

    [Fact]
    public async Task Heartbeat_WithTheWrongToken_ReturnsLost_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, "kept", Ct));
        TaskSnapshot before = await s.GetAsync(task.Id);
        s.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken + 1, TimeSpan.FromMinutes(5), "overwritten", Ct));
        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken - 1, TimeSpan.FromMinutes(5), "overwritten", Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
    }

    [Fact]
    public async Task Heartbeat_ForAnUnknownTask_ReturnsLost()
    {
        TaskStoreHarness s = await StartAsync();

        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(12_345, 1, Lease, "x", Ct));
        Assert.Empty(await s.ListAsync());
    }

    [Fact]
    public async Task Heartbeat_OnAQueuedTaskThatWasNeverClaimed_ReturnsLost()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync();
        TaskSnapshot before = await s.GetAsync(id);

        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(id, before.LeaseToken, Lease, "x", Ct));
        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(id, before.LeaseToken + 1, Lease, "x", Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(id));
    }

    [Fact]
    public async Task Heartbeat_AfterCompletion_ReturnsLost()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.True(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));
        TaskSnapshot before = await s.GetAsync(task.Id);

        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, "late", Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
    }

    [Fact]
    public async Task Heartbeat_AfterTheSweeperTookTheLease_ReturnsLost_AndDoesNotRevive()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        s.Advance(Lease);
        Assert.Equal(new SweepResult(1, 0), await s.SweepAsync());
        TaskSnapshot before = await s.GetAsync(task.Id);

        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, "late", Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
        Assert.Equal(TaskState.Queued, before.State);
    }

    [Fact]
    public async Task Heartbeat_AfterACancelRequest_ReportsCancelRequested_AndStillExtendsTheLease()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));
        s.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(LeaseStatus.CancelRequested, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, "stopping", Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Leased, after.State);
        Assert.Equal(s.Now + Lease, after.LeaseExpiresAt);
        Assert.Equal("stopping", after.Progress);
        Assert.True(after.CancelRequested);
    }

    [Fact]
    public async Task Complete_MarksTheTaskCompletedWithFinishedAt_AndItIsNeverClaimedAgain()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        s.Advance(TimeSpan.FromSeconds(7));

        Assert.True(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Completed, after.State);
        Assert.Equal(s.Now, after.FinishedAt);
        Assert.Null(after.LeaseExpiresAt);
        Assert.Equal(1, after.Attempts);
        Assert.Equal(task.LeaseToken, after.LeaseToken);
        Assert.Equal(TaskStoreHarness.DefaultWorker, after.LeasedBy);
        Assert.Null(after.LastError);

        s.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await s.ClaimAsync());
        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());
        Assert.Equal(TaskState.Completed, (await s.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task Complete_Twice_RefusesTheSecondCall()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.True(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));
        TaskSnapshot before = await s.GetAsync(task.Id);
        s.Advance(TimeSpan.FromSeconds(1));

        Assert.False(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
    }

    [Fact]
    public async Task Complete_AfterTheLeaseExpiredButBeforeTheSweep_StillSucceeds()
    {
        // The lease token, not the clock, decides: until the sweeper (or nobody) takes the task, its holder may finish it.
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        s.Advance(Lease + TimeSpan.FromSeconds(5));

        Assert.True(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));

        Assert.Equal(TaskState.Completed, (await s.GetAsync(task.Id)).State);
        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());
    }

    [Fact]
    public async Task Complete_WithAStaleToken_ReturnsFalse_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        TaskSnapshot before = await s.GetAsync(task.Id);
        s.Advance(TimeSpan.FromSeconds(1));

        Assert.False(await s.Store.CompleteAsync(task.Id, task.LeaseToken - 1, Ct));
        Assert.False(await s.Store.CompleteAsync(task.Id, task.LeaseToken + 1, Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
    }

    [Fact]
    public async Task Complete_OnAQueuedTaskThatWasNeverClaimed_ReturnsFalse_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync();
        TaskSnapshot before = await s.GetAsync(id);

        // The stored token of a never-claimed task must not work as a lease: the task is not leased.
        Assert.False(await s.Store.CompleteAsync(id, before.LeaseToken, Ct));
        Assert.False(await s.Store.FailAsync(id, before.LeaseToken, new TaskFailure("x", RetryAt: null), Ct));
        Assert.False(await s.Store.FailAsync(id, before.LeaseToken, new TaskFailure("x", s.Now), Ct));
        Assert.False(await s.Store.ReleaseAsync(id, before.LeaseToken, Ct));
        Assert.False(await s.Store.AcknowledgeCancelAsync(id, before.LeaseToken, Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(id));
    }

    [Fact]
    public async Task LeaseOperations_OnAnUnknownTask_ReturnFalse()
    {
        TaskStoreHarness s = await StartAsync();

        Assert.False(await s.Store.CompleteAsync(777, 1, Ct));
        Assert.False(await s.Store.FailAsync(777, 1, new TaskFailure("x", s.Now), Ct));
        Assert.False(await s.Store.FailAsync(777, 1, new TaskFailure("x", RetryAt: null), Ct));
        Assert.False(await s.Store.ReleaseAsync(777, 1, Ct));
        Assert.False(await s.Store.AcknowledgeCancelAsync(777, 1, Ct));
        Assert.Empty(await s.ListAsync());
    }

    [Fact]
    public async Task Fail_WithAStaleToken_ReturnsFalse_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        TaskSnapshot before = await s.GetAsync(task.Id);

        Assert.False(await s.Store.FailAsync(task.Id, task.LeaseToken + 1, new TaskFailure("retry", s.Now.AddSeconds(1)), Ct));
        Assert.False(await s.Store.FailAsync(task.Id, task.LeaseToken - 1, new TaskFailure("dead", RetryAt: null), Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
    }

    [Fact]
    public async Task Release_WithAStaleToken_ReturnsFalse_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        TaskSnapshot before = await s.GetAsync(task.Id);

        Assert.False(await s.Store.ReleaseAsync(task.Id, task.LeaseToken + 1, Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
    }

    [Fact]
    public async Task AcknowledgeCancel_WithAStaleToken_ReturnsFalse_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));
        TaskSnapshot before = await s.GetAsync(task.Id);

        Assert.False(await s.Store.AcknowledgeCancelAsync(task.Id, task.LeaseToken + 1, Ct));

        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(task.Id));
    }

    [Fact]
    public async Task Fail_WithRetryAt_RequeuesTheTaskWithItsError_DueAtRetryAt()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(maxAttempts: 3);
        s.Advance(TimeSpan.FromSeconds(2));
        DateTimeOffset retryAt = s.Now.AddSeconds(30);

        Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("System.TimeoutException: the API did not answer", retryAt), Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Queued, after.State);
        Assert.Equal(retryAt, after.RunAt);
        Assert.Equal("System.TimeoutException: the API did not answer", after.LastError);
        Assert.Equal(1, after.Attempts);
        Assert.Null(after.LeaseExpiresAt);
        Assert.Null(after.FinishedAt);

        s.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await s.ClaimAsync());

        s.Advance(TimeSpan.FromMilliseconds(1));
        LeasedTask retry = await s.ClaimOneAsync();
        Assert.Equal(task.Id, retry.Id);
        Assert.Equal(2, retry.Attempt);
        Assert.Equal(task.LeaseToken + 1, retry.LeaseToken);
        Assert.Equal(retryAt, retry.RunAt);
        Assert.Equal("System.TimeoutException: the API did not answer", retry.LastError);
    }

    [Fact]
    public async Task Fail_WithRetryAtInThePast_IsDueAtOnce()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();

        Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("x", s.Now.AddMinutes(-1)), Ct));

        Assert.Equal(task.Id, (await s.ClaimOneAsync()).Id);
    }

    [Fact]
    public async Task Fail_AttemptsKeepCountingAcrossRetries_AndTheLastErrorIsTheLatest()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync(maxAttempts: 3);

        for (int attempt = 1; attempt <= 3; attempt++)
        {
            LeasedTask claimed = await s.ClaimOneAsync();
            Assert.Equal(attempt, claimed.Attempt);
            Assert.Equal(attempt == 1 ? null : $"error {attempt - 1}", claimed.LastError);
            DateTimeOffset? retryAt = attempt < 3 ? s.Now.AddSeconds(attempt) : null;
            Assert.True(await s.Store.FailAsync(id, claimed.LeaseToken, new TaskFailure($"error {attempt}", retryAt), Ct));
            s.Advance(TimeSpan.FromSeconds(attempt));
        }

        TaskSnapshot dead = await s.GetAsync(id);
        Assert.Equal(TaskState.DeadLettered, dead.State);
        Assert.Equal(3, dead.Attempts);
        Assert.Equal("error 3", dead.LastError);
    }

    [Fact]
    public async Task Fail_WithoutRetryAt_DeadLettersTheTask()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(maxAttempts: 5);
        s.Advance(TimeSpan.FromSeconds(3));

        Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("Permanent: bad input", RetryAt: null), Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.DeadLettered, after.State);
        Assert.Equal("Permanent: bad input", after.LastError);
        Assert.Equal(s.Now, after.FinishedAt);
        Assert.Equal(1, after.Attempts);
        Assert.Null(after.LeaseExpiresAt);

        s.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await s.ClaimAsync());
        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());
    }

    [Fact]
    public async Task Release_RequeuesTheTaskDueNow_AndGivesTheAttemptBack()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        s.Advance(TimeSpan.FromSeconds(5));

        Assert.True(await s.Store.ReleaseAsync(task.Id, task.LeaseToken, Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Queued, after.State);
        Assert.Equal(s.Now, after.RunAt);
        Assert.Equal(0, after.Attempts);
        Assert.Null(after.LeaseExpiresAt);
        Assert.Null(after.FinishedAt);
        Assert.Null(after.LastError);

        LeasedTask again = await s.ClaimOneAsync(worker: "worker-b");
        Assert.Equal(task.Id, again.Id);
        Assert.Equal(1, again.Attempt);
        Assert.Equal(task.LeaseToken + 1, again.LeaseToken);
        Assert.False(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));
    }

    [Fact]
    public async Task Release_OnTheLastAttempt_DoesNotUseItUp()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(maxAttempts: 1);
        Assert.True(await s.Store.ReleaseAsync(task.Id, task.LeaseToken, Ct));

        LeasedTask again = await s.ClaimOneAsync(lease: TimeSpan.FromSeconds(1));
        Assert.Equal(1, again.Attempt);
        s.Advance(TimeSpan.FromSeconds(1));

        // Now the single attempt really is used: the lost lease dead-letters it.
        Assert.Equal(new SweepResult(0, 1), await s.SweepAsync());
    }

    [Fact]
    public async Task AcknowledgeCancel_MarksTheLeasedTaskCanceledWithFinishedAt()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));
        s.Advance(TimeSpan.FromSeconds(4));

        Assert.True(await s.Store.AcknowledgeCancelAsync(task.Id, task.LeaseToken, Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Canceled, after.State);
        Assert.Equal(s.Now, after.FinishedAt);
        Assert.Null(after.LeaseExpiresAt);
        Assert.False(await s.Store.AcknowledgeCancelAsync(task.Id, task.LeaseToken, Ct));
        Assert.Equal(LeaseStatus.Lost, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, progress: null, Ct));
        Assert.Empty(await s.ClaimAsync());
    }
}
