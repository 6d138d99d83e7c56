namespace BuildingBlocks.TaskQueue.Conformance;

public abstract partial class TaskStoreConformanceTests
{
    [Fact]
    public async Task Claim_TakesHighestPriorityFirst_ThenEarliestRunAt_ThenLowestId()
    {
        TaskStoreHarness s = await StartAsync();
        // Enqueued in an order that differs from the claim order in every key.
        long lateRunAt = await s.EnqueueAsync(priority: 0, runAt: Start.AddSeconds(2));
        long earlyRunAt = await s.EnqueueAsync(priority: 0, runAt: Start.AddSeconds(1));
        long low = await s.EnqueueAsync(priority: -5);
        long sameAsFirstA = await s.EnqueueAsync(priority: 10);
        long sameAsFirstB = await s.EnqueueAsync(priority: 10);
        long high = await s.EnqueueAsync(priority: 100);
        long sameRunAtLowerId = await s.EnqueueAsync(priority: 0, runAt: Start.AddSeconds(3));
        long sameRunAtHigherId = await s.EnqueueAsync(priority: 0, runAt: Start.AddSeconds(3));
        s.Advance(TimeSpan.FromSeconds(3));

        IReadOnlyList<LeasedTask> claimed = await s.ClaimAsync(maxCount: 100);

        Assert.Equal(
            new[] { high, sameAsFirstA, sameAsFirstB, earlyRunAt, lateRunAt, sameRunAtLowerId, sameRunAtHigherId, low },
            claimed.Select(t => t.Id).ToArray());
    }

    [Fact]
    public async Task Claim_OneAtATime_FollowsTheSameOrderAsOneBigClaim()
    {
        TaskStoreHarness s = await StartAsync();
        long b = await s.EnqueueAsync(priority: 1, runAt: Start.AddMilliseconds(20));
        long a = await s.EnqueueAsync(priority: 1, runAt: Start.AddMilliseconds(10));
        long c = await s.EnqueueAsync(priority: 0);
        long first = await s.EnqueueAsync(priority: 2, runAt: Start.AddMilliseconds(30));
        s.Advance(TimeSpan.FromMilliseconds(30));

        var order = new List<long>();
        for (int i = 0; i < 4; i++)
        {
            order.Add((await s.ClaimOneAsync()).Id);
        }

        Assert.Equal(new[] { first, a, b, c }, order.ToArray());
        Assert.Empty(await s.ClaimAsync());
    }

    [Fact]
    public async Task Claim_DelayedTask_IsNotClaimedUntilItsRunAtComes()
    {
        TaskStoreHarness s = await StartAsync();
        DateTimeOffset runAt = Start.AddMinutes(10);
        long id = await s.EnqueueAsync(runAt: runAt, priority: 50);
        long due = await s.EnqueueAsync();

        Assert.Equal(due, (await s.ClaimOneAsync()).Id);
        Assert.Empty(await s.ClaimAsync());

        s.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await s.ClaimAsync());
        Assert.Equal(TaskState.Queued, (await s.GetAsync(id)).State);

        s.Advance(TimeSpan.FromMilliseconds(1));
        LeasedTask claimed = await s.ClaimOneAsync();
        Assert.Equal(id, claimed.Id);
        Assert.Equal(runAt, claimed.RunAt);
    }

    [Fact]
    public async Task Claim_TaskWithRunAtInThePast_IsDueAtOnce()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync(runAt: Start.AddHours(-1));

        LeasedTask claimed = await s.ClaimOneAsync();

        Assert.Equal(id, claimed.Id);
        Assert.Equal(Start.AddHours(-1), claimed.RunAt);
    }

    [Fact]
    public async Task Claim_SetsAttemptLeaseTokenLeaseExpiryAndWorker_AndReturnsEveryField()
    {
        TaskStoreHarness s = await StartAsync();
        DateTimeOffset enqueuedAt = s.Now;
        var insert = new TaskInsert
        {
            Queue = "emails",
            Payload = new byte[] { 4, 5, 6 },
            Priority = 3,
            EnqueuedAt = enqueuedAt,
            RunAt = enqueuedAt,
            MaxAttempts = 4,
            UniqueKey = "welcome-1",
            TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        };
        long id = Assert.Single(await s.Store.EnqueueAsync([insert], Ct)).TaskId;
        long tokenBefore = (await s.GetAsync(id)).LeaseToken;
        s.Advance(TimeSpan.FromMilliseconds(1_250));
        TimeSpan lease = TimeSpan.FromSeconds(45);

        LeasedTask claimed = await s.ClaimOneAsync("emails", "worker-7", lease);

        Assert.Equal(id, claimed.Id);
        Assert.Equal("emails", claimed.Queue);
        Assert.Equal(new byte[] { 4, 5, 6 }, claimed.Payload.ToArray());
        Assert.Equal(3, claimed.Priority);
        Assert.Equal(1, claimed.Attempt);
        Assert.Equal(4, claimed.MaxAttempts);
        Assert.Equal(tokenBefore + 1, claimed.LeaseToken);
        Assert.Equal(s.Now + lease, claimed.LeaseExpiresAt);
        Assert.Equal(enqueuedAt, claimed.EnqueuedAt);
        Assert.Equal(enqueuedAt, claimed.RunAt);
        Assert.Equal(s.Now, claimed.ClaimedAt);
        Assert.Null(claimed.Progress);
        Assert.Null(claimed.LastError);
        Assert.Equal("welcome-1", claimed.UniqueKey);
        Assert.Equal(insert.TraceParent, claimed.TraceParent);

        TaskSnapshot task = await s.GetAsync(id);
        Assert.Equal(TaskState.Leased, task.State);
        Assert.Equal(1, task.Attempts);
        Assert.Equal(claimed.LeaseToken, task.LeaseToken);
        Assert.Equal(s.Now + lease, task.LeaseExpiresAt);
        Assert.Equal("worker-7", task.LeasedBy);
        Assert.Null(task.FinishedAt);
    }

    [Fact]
    public async Task Claim_EveryClaimIncrementsTheLeaseTokenByOne_AndTheAttempt()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync(maxAttempts: 5);

        var tokens = new List<long>();
        var attempts = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            LeasedTask claimed = await s.ClaimOneAsync();
            Assert.Equal(id, claimed.Id);
            tokens.Add(claimed.LeaseToken);
            attempts.Add(claimed.Attempt);
            Assert.True(await s.Store.FailAsync(id, claimed.LeaseToken, new TaskFailure($"failure {i + 1}", s.Now), Ct));
        }

        Assert.Equal(new[] { tokens[0], tokens[0] + 1, tokens[0] + 2, tokens[0] + 3 }, tokens.ToArray());
        Assert.Equal(new[] { 1, 2, 3, 4 }, attempts.ToArray());
    }

    [Fact]
    public async Task Claim_RespectsMaxCount()
    {
        TaskStoreHarness s = await StartAsync();
        await s.Store.EnqueueAsync([.. Enumerable.Range(0, 5).Select(_ => s.Insert())], Ct);

        Assert.Equal(3, (await s.ClaimAsync(maxCount: 3)).Count);
        Assert.Single(await s.ClaimAsync(maxCount: 1));
        Assert.Single(await s.ClaimAsync(maxCount: 3));
        Assert.Empty(await s.ClaimAsync(maxCount: 3));
    }

    [Fact]
    public async Task Claim_TakesOnlyTasksOfTheRequestedQueue_AndLeavesOtherQueuesUntouched()
    {
        TaskStoreHarness s = await StartAsync();
        long mine = await s.EnqueueAsync("mine");
        long other = await s.EnqueueAsync("other", priority: 1_000);
        long caseVariant = await s.EnqueueAsync("Mine");
        TaskSnapshot otherBefore = await s.GetAsync(other);

        IReadOnlyList<LeasedTask> claimed = await s.ClaimAsync("mine");

        Assert.Equal(mine, Assert.Single(claimed).Id);
        TaskStoreHarness.AssertSameSnapshot(otherBefore, await s.GetAsync(other));
        Assert.Equal(TaskState.Queued, (await s.GetAsync(caseVariant)).State);
        Assert.Equal(other, (await s.ClaimOneAsync("other")).Id);
        Assert.Equal(caseVariant, (await s.ClaimOneAsync("Mine")).Id);
    }

    [Fact]
    public async Task Claim_FromAnEmptyOrUnknownQueue_ReturnsEmpty()
    {
        TaskStoreHarness s = await StartAsync();
        Assert.Empty(await s.ClaimAsync("never-used"));

        await s.EnqueueAsync("used");
        Assert.Empty(await s.ClaimAsync("never-used"));
        Assert.Single(await s.ClaimAsync("used"));
        Assert.Empty(await s.ClaimAsync("used"));
    }

    [Fact]
    public async Task Claim_LeasedTask_IsNotClaimedAgain_EvenAfterItsLeaseExpiredUntilTheSweeperReturnsIt()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask first = await s.EnqueueAndClaimAsync();

        Assert.Empty(await s.ClaimAsync(worker: "worker-b"));

        s.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Empty(await s.ClaimAsync(worker: "worker-b"));
        Assert.Equal(TaskState.Leased, (await s.GetAsync(first.Id)).State);

        Assert.Equal(new SweepResult(1, 0), await s.SweepAsync());
        Assert.Equal(first.Id, (await s.ClaimOneAsync(worker: "worker-b")).Id);
    }

    [Fact]
    public async Task Claim_TaskLastHeldByAnotherWorker_RecordsTheNewWorker()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask first = await s.EnqueueAndClaimAsync(worker: "worker-a");
        Assert.True(await s.Store.ReleaseAsync(first.Id, first.LeaseToken, Ct));

        await s.ClaimOneAsync(worker: "worker-b");

        Assert.Equal("worker-b", (await s.GetAsync(first.Id)).LeasedBy);
    }
}
