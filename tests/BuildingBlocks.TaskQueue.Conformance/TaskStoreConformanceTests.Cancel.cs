namespace BuildingBlocks.TaskQueue.Conformance;

public abstract partial class TaskStoreConformanceTests
{
    [Fact]
    public async Task Cancel_QueuedTask_CancelsIt_AndItIsNeverClaimed()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync();
        s.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(id, Ct));

        TaskSnapshot after = await s.GetAsync(id);
        Assert.Equal(TaskState.Canceled, after.State);
        Assert.Equal(s.Now, after.FinishedAt);
        Assert.Equal(0, after.Attempts);
        Assert.Empty(await s.ClaimAsync());
        s.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await s.ClaimAsync());
    }

    [Fact]
    public async Task Cancel_DelayedTask_CancelsIt_AndItIsNotClaimedWhenItWouldHaveComeDue()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync(runAt: Start.AddMinutes(1));

        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(id, Ct));

        s.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(await s.ClaimAsync());
        Assert.Equal(TaskState.Canceled, (await s.GetAsync(id)).State);
    }

    [Fact]
    public async Task Cancel_TaskWaitingToRetry_CancelsIt()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("x", s.Now.AddSeconds(10)), Ct));

        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(task.Id, Ct));

        s.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(await s.ClaimAsync());
    }

    [Fact]
    public async Task Cancel_LeasedTask_RequestsCancellation_WhichTheNextHeartbeatReports()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, progress: null, Ct));

        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));

        TaskSnapshot requested = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Leased, requested.State);
        Assert.True(requested.CancelRequested);
        Assert.Null(requested.FinishedAt);
        Assert.Equal(task.LeaseToken, requested.LeaseToken);

        Assert.Equal(LeaseStatus.CancelRequested, await s.Store.HeartbeatAsync(task.Id, task.LeaseToken, Lease, progress: null, Ct));
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));
        Assert.True(await s.Store.AcknowledgeCancelAsync(task.Id, task.LeaseToken, Ct));
        Assert.Equal(TaskState.Canceled, (await s.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task Cancel_FinishedTask_ReturnsAlreadyFinished_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask completed = await s.EnqueueAndClaimAsync();
        Assert.True(await s.Store.CompleteAsync(completed.Id, completed.LeaseToken, Ct));
        LeasedTask dead = await s.EnqueueAndClaimAsync();
        Assert.True(await s.Store.FailAsync(dead.Id, dead.LeaseToken, new TaskFailure("x", RetryAt: null), Ct));
        long canceled = await s.EnqueueAsync();
        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(canceled, Ct));
        s.Advance(TimeSpan.FromSeconds(1));

        foreach (long id in new[] { completed.Id, dead.Id, canceled })
        {
            TaskSnapshot before = await s.GetAsync(id);
            Assert.Equal(CancelResult.AlreadyFinished, await s.Store.CancelAsync(id, Ct));
            TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(id));
        }
    }

    [Fact]
    public async Task Cancel_UnknownId_ReturnsNotFound()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync();

        Assert.Equal(CancelResult.NotFound, await s.Store.CancelAsync(id + 1_000, Ct));
        Assert.Equal(TaskState.Queued, (await s.GetAsync(id)).State);
    }

    [Fact]
    public async Task Redrive_DeadLetter_RequeuesItDueNow_WithAttemptsReset_AndItsErrorKept()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync(maxAttempts: 1);
        Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("bad data", RetryAt: null), Ct));
        s.Advance(TimeSpan.FromHours(2));

        Assert.True(await s.Store.RedriveAsync(task.Id, Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Queued, after.State);
        Assert.Equal(0, after.Attempts);
        Assert.Equal(s.Now, after.RunAt);
        Assert.Null(after.FinishedAt);
        Assert.Equal("bad data", after.LastError);
        Assert.False(after.CancelRequested);

        LeasedTask again = await s.ClaimOneAsync();
        Assert.Equal(task.Id, again.Id);
        Assert.Equal(1, again.Attempt);
        Assert.True(again.LeaseToken > task.LeaseToken, "Lease tokens keep growing across a redrive, so an old holder stays locked out.");
        Assert.Equal("bad data", again.LastError);
        Assert.False(await s.Store.CompleteAsync(task.Id, task.LeaseToken, Ct));
    }

    [Fact]
    public async Task Redrive_TaskThatIsNotDeadLettered_ReturnsFalse_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        long queued = await s.EnqueueAsync("q");
        LeasedTask leased = await s.EnqueueAndClaimAsync("l");
        LeasedTask completed = await s.EnqueueAndClaimAsync("c");
        Assert.True(await s.Store.CompleteAsync(completed.Id, completed.LeaseToken, Ct));
        long canceled = await s.EnqueueAsync("x");
        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(canceled, Ct));
        s.Advance(TimeSpan.FromSeconds(1));

        foreach (long id in new[] { queued, leased.Id, completed.Id, canceled })
        {
            TaskSnapshot before = await s.GetAsync(id);
            Assert.False(await s.Store.RedriveAsync(id, Ct));
            TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(id));
        }

        Assert.False(await s.Store.RedriveAsync(canceled + 1_000, Ct));
    }

    [Fact]
    public async Task RedriveQueue_MovesEveryDeadLetterOfThatQueueOnly()
    {
        TaskStoreHarness s = await StartAsync();
        async Task<long> DeadLetterAsync(string queue)
        {
            LeasedTask task = await s.EnqueueAndClaimAsync(queue);
            Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("x", RetryAt: null), Ct));
            return task.Id;
        }

        long deadA1 = await DeadLetterAsync("a");
        long deadA2 = await DeadLetterAsync("a");
        long deadB = await DeadLetterAsync("b");
        long deadCase = await DeadLetterAsync("A");
        LeasedTask completedA = await s.EnqueueAndClaimAsync("a");
        Assert.True(await s.Store.CompleteAsync(completedA.Id, completedA.LeaseToken, Ct));
        long queuedA = await s.EnqueueAsync("a", runAt: Start.AddHours(1));
        s.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(2, await s.Store.RedriveQueueAsync("a", Ct));

        foreach (long id in new[] { deadA1, deadA2 })
        {
            TaskSnapshot task = await s.GetAsync(id);
            Assert.Equal(TaskState.Queued, task.State);
            Assert.Equal(0, task.Attempts);
            Assert.Equal(s.Now, task.RunAt);
            Assert.Null(task.FinishedAt);
        }

        Assert.Equal(TaskState.DeadLettered, (await s.GetAsync(deadB)).State);
        Assert.Equal(TaskState.DeadLettered, (await s.GetAsync(deadCase)).State);
        Assert.Equal(TaskState.Completed, (await s.GetAsync(completedA.Id)).State);
        Assert.Equal(Start.AddHours(1), (await s.GetAsync(queuedA)).RunAt);
        Assert.Equal(new[] { deadA1, deadA2 }, (await s.ClaimAsync("a")).Select(t => t.Id).ToArray());
        Assert.Equal(0, await s.Store.RedriveQueueAsync("a", Ct));
    }

    [Fact]
    public async Task RedriveQueue_WithNoDeadLetters_ReturnsZero()
    {
        TaskStoreHarness s = await StartAsync();
        await s.EnqueueAsync();

        Assert.Equal(0, await s.Store.RedriveQueueAsync(TaskStoreHarness.DefaultQueue, Ct));
        Assert.Equal(0, await s.Store.RedriveQueueAsync("unknown", Ct));
    }

    [Fact]
    public async Task Prune_DeletesCompletedAndCanceledAndDeadLetteredTasks_EachBeforeItsOwnCutOff()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask completed = await s.EnqueueAndClaimAsync("c");
        LeasedTask dead = await s.EnqueueAndClaimAsync("d");
        long canceled = await s.EnqueueAsync("x");
        s.Advance(TimeSpan.FromSeconds(10));
        DateTimeOffset finishedAt = s.Now;
        Assert.True(await s.Store.CompleteAsync(completed.Id, completed.LeaseToken, Ct));
        Assert.True(await s.Store.FailAsync(dead.Id, dead.LeaseToken, new TaskFailure("x", RetryAt: null), Ct));
        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(canceled, Ct));
        s.Advance(TimeSpan.FromSeconds(10));
        LeasedTask completedLater = await s.EnqueueAndClaimAsync("c");
        Assert.True(await s.Store.CompleteAsync(completedLater.Id, completedLater.LeaseToken, Ct));
        s.Advance(TimeSpan.FromDays(30));

        // A cut-off equal to the finish time keeps the task (strictly before).
        Assert.Equal(0, await s.Store.PruneAsync(finishedAt, finishedAt, Ct));

        // Completed and canceled go by the first cut-off; the dead letter is younger than its own.
        Assert.Equal(2, await s.Store.PruneAsync(finishedAt.AddMilliseconds(1), finishedAt, Ct));
        Assert.Null(await s.Store.GetAsync(completed.Id, Ct));
        Assert.Null(await s.Store.GetAsync(canceled, Ct));
        Assert.NotNull(await s.Store.GetAsync(dead.Id, Ct));
        Assert.NotNull(await s.Store.GetAsync(completedLater.Id, Ct));

        // The dead letter goes by the second cut-off only.
        Assert.Equal(1, await s.Store.PruneAsync(finishedAt, finishedAt.AddMilliseconds(1), Ct));
        Assert.Null(await s.Store.GetAsync(dead.Id, Ct));
        Assert.NotNull(await s.Store.GetAsync(completedLater.Id, Ct));
        Assert.Single(await s.ListAsync());
    }

    [Fact]
    public async Task Prune_NeverDeletesQueuedOrLeasedTasks()
    {
        TaskStoreHarness s = await StartAsync();
        long queued = await s.EnqueueAsync("q");
        long delayed = await s.EnqueueAsync("q", runAt: Start.AddDays(400));
        LeasedTask leased = await s.EnqueueAndClaimAsync("l");
        LeasedTask retrying = await s.EnqueueAndClaimAsync("r");
        Assert.True(await s.Store.FailAsync(retrying.Id, retrying.LeaseToken, new TaskFailure("x", s.Now.AddMinutes(1)), Ct));
        s.Advance(TimeSpan.FromDays(365));

        Assert.Equal(0, await s.Store.PruneAsync(s.Now.AddYears(10), s.Now.AddYears(10), Ct));

        Assert.Equal(
            new[] { queued, delayed, leased.Id, retrying.Id },
            (await s.ListAsync()).Select(t => t.Id).ToArray());
        Assert.True(await s.Store.CompleteAsync(leased.Id, leased.LeaseToken, Ct));
    }

    [Fact]
    public async Task CancelRequested_ThenTheAttemptFailsWithARetry_EndsCanceled_NotQueuedAgain()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));
        s.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("boom", s.Now.AddSeconds(5)), Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.Canceled, after.State);
        Assert.Equal(s.Now, after.FinishedAt);
        Assert.Equal("boom", after.LastError);
        s.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(await s.ClaimAsync());
    }

    [Fact]
    public async Task CancelRequested_ThenTheLeaseIsReleased_EndsCanceled_NotQueuedAgain()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));

        Assert.True(await s.Store.ReleaseAsync(task.Id, task.LeaseToken, Ct));

        Assert.Equal(TaskState.Canceled, (await s.GetAsync(task.Id)).State);
        Assert.Empty(await s.ClaimAsync());
    }

    [Fact]
    public async Task CancelRequested_ThenTheAttemptFailsForGood_IsDeadLetteredWithItsError()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask task = await s.EnqueueAndClaimAsync();
        Assert.Equal(CancelResult.CancelRequested, await s.Store.CancelAsync(task.Id, Ct));

        Assert.True(await s.Store.FailAsync(task.Id, task.LeaseToken, new TaskFailure("fatal", RetryAt: null), Ct));

        TaskSnapshot after = await s.GetAsync(task.Id);
        Assert.Equal(TaskState.DeadLettered, after.State);
        Assert.Equal("fatal", after.LastError);
    }
}
