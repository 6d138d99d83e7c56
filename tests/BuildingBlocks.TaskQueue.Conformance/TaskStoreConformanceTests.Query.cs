using System.Collections.Concurrent;

namespace BuildingBlocks.TaskQueue.Conformance;

public abstract partial class TaskStoreConformanceTests
{
    [Fact]
    public async Task Get_UnknownId_ReturnsNull()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync();

        Assert.Null(await s.Store.GetAsync(id + 1, Ct));
        Assert.Null(await s.Store.GetAsync(0, Ct));
        Assert.Null(await s.Store.GetAsync(-1, Ct));
    }

    [Fact]
    public async Task List_ReturnsTasksOfEveryQueueInIdOrder()
    {
        TaskStoreHarness s = await StartAsync();
        long a = await s.EnqueueAsync("b-queue", priority: 9);
        long b = await s.EnqueueAsync("a-queue", runAt: Start.AddDays(1));
        long c = await s.EnqueueAsync("b-queue");

        Assert.Equal(new[] { a, b, c }, (await s.ListAsync()).Select(t => t.Id).ToArray());
    }

    [Fact]
    public async Task List_FiltersByQueueAndState()
    {
        TaskStoreHarness s = await StartAsync();
        LeasedTask leasedA = await s.EnqueueAndClaimAsync("a");
        LeasedTask completedA = await s.EnqueueAndClaimAsync("a");
        Assert.True(await s.Store.CompleteAsync(completedA.Id, completedA.LeaseToken, Ct));
        long queuedA = await s.EnqueueAsync("a");
        LeasedTask deadB = await s.EnqueueAndClaimAsync("b");
        Assert.True(await s.Store.FailAsync(deadB.Id, deadB.LeaseToken, new TaskFailure("x", RetryAt: null), Ct));
        long canceledB = await s.EnqueueAsync("b");
        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(canceledB, Ct));
        long queuedB = await s.EnqueueAsync("b");

        static long[] Ids(IReadOnlyList<TaskSnapshot> page) => [.. page.Select(t => t.Id)];

        Assert.Equal(new[] { leasedA.Id, completedA.Id, queuedA }, Ids(await s.ListAsync(queue: "a")));
        Assert.Equal(new[] { deadB.Id, canceledB, queuedB }, Ids(await s.ListAsync(queue: "b")));
        Assert.Equal(new[] { queuedA, queuedB }, Ids(await s.ListAsync(state: TaskState.Queued)));
        Assert.Equal(new[] { leasedA.Id }, Ids(await s.ListAsync(state: TaskState.Leased)));
        Assert.Equal(new[] { completedA.Id }, Ids(await s.ListAsync(state: TaskState.Completed)));
        Assert.Equal(new[] { deadB.Id }, Ids(await s.ListAsync(state: TaskState.DeadLettered)));
        Assert.Equal(new[] { canceledB }, Ids(await s.ListAsync(state: TaskState.Canceled)));
        Assert.Equal(new[] { queuedB }, Ids(await s.ListAsync(queue: "b", state: TaskState.Queued)));
        Assert.Empty(await s.ListAsync(queue: "a", state: TaskState.DeadLettered));
        Assert.Empty(await s.ListAsync(queue: "A"));
        Assert.Empty(await s.ListAsync(queue: "unknown"));

        Assert.All(await s.ListAsync(state: TaskState.Queued), t => Assert.Equal(TaskState.Queued, t.State));
    }

    [Fact]
    public async Task List_PagesByAfterIdAndLimit()
    {
        TaskStoreHarness s = await StartAsync();
        IReadOnlyList<EnqueueResult> results = await s.Store.EnqueueAsync([.. Enumerable.Range(0, 10).Select(i => s.Insert(i % 2 == 0 ? "even" : "odd"))], Ct);
        long[] all = [.. results.Select(r => r.TaskId)];

        var pages = new List<long[]>();
        long afterId = 0;
        while (true)
        {
            IReadOnlyList<TaskSnapshot> page = await s.ListAsync(afterId: afterId, limit: 3);
            if (page.Count == 0)
            {
                break;
            }

            pages.Add([.. page.Select(t => t.Id)]);
            afterId = page[^1].Id;
        }

        Assert.Equal(new[] { 3, 3, 3, 1 }, pages.Select(p => p.Length).ToArray());
        Assert.Equal(all, pages.SelectMany(p => p).ToArray());

        IReadOnlyList<TaskSnapshot> odd = await s.ListAsync(queue: "odd", afterId: all[2], limit: 2);
        Assert.Equal(new[] { all[3], all[5] }, odd.Select(t => t.Id).ToArray());
        Assert.Equal(new[] { all[9] }, (await s.ListAsync(afterId: all[8], limit: 5)).Select(t => t.Id).ToArray());
        Assert.Empty(await s.ListAsync(afterId: all[9]));
        Assert.Single(await s.ListAsync(limit: 1));
    }

    [Fact]
    public async Task List_WithoutPayloads_ReturnsEmptyPayloads_AndEveryOtherField()
    {
        TaskStoreHarness s = await StartAsync();
        long id = await s.EnqueueAsync(payload: [9, 8, 7], priority: 4, uniqueKey: "u");
        await s.ClaimOneAsync();
        TaskSnapshot full = await s.GetAsync(id);

        TaskSnapshot withPayload = Assert.Single(await s.ListAsync(includePayload: true));
        TaskSnapshot withoutPayload = Assert.Single(await s.ListAsync(includePayload: false));

        TaskStoreHarness.AssertSameSnapshot(full, withPayload);
        Assert.Equal(new byte[] { 9, 8, 7 }, withPayload.Payload.ToArray());
        Assert.True(withoutPayload.Payload.IsEmpty);
        TaskStoreHarness.AssertSameSnapshot(
            new TaskSnapshot
            {
                Id = full.Id,
                Queue = full.Queue,
                State = full.State,
                Payload = ReadOnlyMemory<byte>.Empty,
                Priority = full.Priority,
                Attempts = full.Attempts,
                MaxAttempts = full.MaxAttempts,
                EnqueuedAt = full.EnqueuedAt,
                RunAt = full.RunAt,
                LeaseToken = full.LeaseToken,
                LeaseExpiresAt = full.LeaseExpiresAt,
                LeasedBy = full.LeasedBy,
                Progress = full.Progress,
                LastError = full.LastError,
                FinishedAt = full.FinishedAt,
                CancelRequested = full.CancelRequested,
                UniqueKey = full.UniqueKey,
            },
            withoutPayload);
    }

    [Fact]
    public async Task Statistics_CountEachStatePerQueue()
    {
        TaskStoreHarness s = await StartAsync();
        // Queue "work": 2 ready, 1 scheduled, 1 leased, 1 expired lease, 1 completed, 1 dead letter, 1 canceled.
        await s.EnqueueAndClaimAsync("work", lease: TimeSpan.FromSeconds(5));
        await s.EnqueueAndClaimAsync("work", lease: TimeSpan.FromMinutes(5));
        LeasedTask completed = await s.EnqueueAndClaimAsync("work");
        Assert.True(await s.Store.CompleteAsync(completed.Id, completed.LeaseToken, Ct));
        LeasedTask dead = await s.EnqueueAndClaimAsync("work");
        Assert.True(await s.Store.FailAsync(dead.Id, dead.LeaseToken, new TaskFailure("x", RetryAt: null), Ct));
        long canceled = await s.EnqueueAsync("work");
        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(canceled, Ct));
        DateTimeOffset oldestReady = s.Now;
        await s.EnqueueAsync("work");
        s.Advance(TimeSpan.FromSeconds(10));
        await s.EnqueueAsync("work");
        await s.EnqueueAsync("work", runAt: s.Now.AddSeconds(1));
        // Queue "mail": 1 task waiting to retry (scheduled), 1 ready.
        LeasedTask retrying = await s.EnqueueAndClaimAsync("mail");
        Assert.True(await s.Store.FailAsync(retrying.Id, retrying.LeaseToken, new TaskFailure("x", s.Now.AddMinutes(1)), Ct));
        await s.EnqueueAsync("mail", runAt: s.Now.AddMilliseconds(-500));

        IReadOnlyList<QueueStatistics> stats = await s.Store.GetStatisticsAsync(Ct);

        Assert.Equal(new[] { "mail", "work" }, stats.Select(q => q.Queue).ToArray());
        QueueStatistics mail = stats[0];
        Assert.Equal(1, mail.Ready);
        Assert.Equal(1, mail.Scheduled);
        Assert.Equal(0, mail.Leased);
        Assert.Equal(0, mail.ExpiredLeases);
        Assert.Equal(0, mail.Completed);
        Assert.Equal(0, mail.DeadLettered);
        Assert.Equal(0, mail.Canceled);
        Assert.Equal(s.Now.AddMilliseconds(-500), mail.OldestReadyRunAt);

        QueueStatistics work = stats[1];
        Assert.Equal(2, work.Ready);
        Assert.Equal(1, work.Scheduled);
        Assert.Equal(2, work.Leased);
        Assert.Equal(1, work.ExpiredLeases);
        Assert.Equal(1, work.Completed);
        Assert.Equal(1, work.DeadLettered);
        Assert.Equal(1, work.Canceled);
        Assert.Equal(oldestReady, work.OldestReadyRunAt);

        // Time moves: the scheduled task comes due, the second lease expires too.
        s.Advance(TimeSpan.FromMinutes(5));
        work = (await s.Store.GetStatisticsAsync(Ct)).Single(q => q.Queue == "work");
        Assert.Equal(3, work.Ready);
        Assert.Equal(0, work.Scheduled);
        Assert.Equal(2, work.Leased);
        Assert.Equal(2, work.ExpiredLeases);
        Assert.Equal(oldestReady, work.OldestReadyRunAt);
    }

    [Fact]
    public async Task Statistics_LeaseExpiringExactlyNow_CountsAsExpired_AndATaskDueExactlyNowAsReady()
    {
        TaskStoreHarness s = await StartAsync();
        await s.EnqueueAndClaimAsync(lease: TimeSpan.FromSeconds(10));
        await s.EnqueueAsync(runAt: Start.AddSeconds(10));

        QueueStatistics before = Assert.Single(await s.Store.GetStatisticsAsync(Ct));
        Assert.Equal((0, 1, 1, 0), (before.Ready, before.Scheduled, before.Leased, before.ExpiredLeases));

        s.Advance(TimeSpan.FromSeconds(10));
        QueueStatistics at = Assert.Single(await s.Store.GetStatisticsAsync(Ct));

        Assert.Equal((1, 0, 1, 1), (at.Ready, at.Scheduled, at.Leased, at.ExpiredLeases));
        Assert.Equal(Start.AddSeconds(10), at.OldestReadyRunAt);
    }

    [Fact]
    public async Task Statistics_OldestReadyRunAt_IsNullWhenNothingIsDue()
    {
        TaskStoreHarness s = await StartAsync();
        await s.EnqueueAsync(runAt: Start.AddMinutes(1));
        await s.EnqueueAndClaimAsync("leased");

        IReadOnlyList<QueueStatistics> stats = await s.Store.GetStatisticsAsync(Ct);

        Assert.Equal(2, stats.Count);
        Assert.All(stats, q => Assert.Null(q.OldestReadyRunAt));
        Assert.All(stats, q => Assert.Equal(0, q.Ready));
    }

    [Fact]
    public async Task Statistics_AreOrderedByOrdinalQueueName_AndOmitQueuesWithoutTasks()
    {
        TaskStoreHarness s = await StartAsync();
        await s.EnqueueAsync("beta");
        await s.EnqueueAsync("alpha");
        await s.EnqueueAsync("Alpha");
        LeasedTask gone = await s.EnqueueAndClaimAsync("gone");
        Assert.True(await s.Store.CompleteAsync(gone.Id, gone.LeaseToken, Ct));
        s.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await s.Store.PruneAsync(s.Now, s.Now, Ct));

        IReadOnlyList<QueueStatistics> stats = await s.Store.GetStatisticsAsync(Ct);

        Assert.Equal(new[] { "Alpha", "alpha", "beta" }, stats.Select(q => q.Queue).ToArray());
        Assert.All(stats, q => Assert.Equal(1, q.Ready));
    }

    [Fact]
    public async Task Statistics_OnAnEmptyStore_AreEmpty()
    {
        TaskStoreHarness s = await StartAsync();

        Assert.Empty(await s.Store.GetStatisticsAsync(Ct));
    }

    [Fact]
    public async Task Payload_RoundTripsByteForByte_EmptyBinaryAndLarge()
    {
        TaskStoreHarness s = await StartAsync();
        byte[] empty = [];
        byte[] binary = [0, 0, 255, 0, 1, 0x80, 0x7F, 0xFE, 0, 0xC3, 0x28, 0];
        byte[] large = new byte[256 * 1024];
        for (int i = 0; i < large.Length; i++)
        {
            large[i] = (byte)((i * 31) ^ (i >> 8));
        }

        long emptyId = await s.EnqueueAsync(payload: empty, priority: 3);
        long binaryId = await s.EnqueueAsync(payload: binary, priority: 2);
        long largeId = await s.EnqueueAsync(payload: large, priority: 1);

        Assert.Empty((await s.GetAsync(emptyId)).Payload.ToArray());
        Assert.Equal(binary, (await s.GetAsync(binaryId)).Payload.ToArray());
        Assert.Equal(large, (await s.GetAsync(largeId)).Payload.ToArray());

        IReadOnlyList<TaskSnapshot> listed = await s.ListAsync();
        Assert.Empty(listed[0].Payload.ToArray());
        Assert.Equal(binary, listed[1].Payload.ToArray());
        Assert.Equal(large, listed[2].Payload.ToArray());

        IReadOnlyList<LeasedTask> claimed = await s.ClaimAsync();
        Assert.Equal(new[] { emptyId, binaryId, largeId }, claimed.Select(t => t.Id).ToArray());
        Assert.Empty(claimed[0].Payload.ToArray());
        Assert.Equal(binary, claimed[1].Payload.ToArray());
        Assert.Equal(large, claimed[2].Payload.ToArray());
    }

    [Fact]
    public async Task Strings_RoundTripExactly_IncludingUnicodeQuotesAndLongText()
    {
        TaskStoreHarness s = await StartAsync();
        const string queue = "Bestellungen/✓/日本語 'q' \"x\"";
        string uniqueKey = "κλειδί-🔑-" + new string('k', 300);
        string progress = "{\"note\":\"naïve café 😀\",\"quote\":\"it's\"}" + new string('p', 5_000);
        string error = "System.Exception: ошибка\r\n   at Line 1\n\ttab";
        var insert = new TaskInsert
        {
            Queue = queue,
            Payload = new byte[] { 1 },
            Priority = 0,
            EnqueuedAt = s.Now,
            RunAt = s.Now,
            MaxAttempts = 3,
            UniqueKey = uniqueKey,
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
        };
        long id = Assert.Single(await s.Store.EnqueueAsync([insert], Ct)).TaskId;

        LeasedTask first = await s.ClaimOneAsync(queue, worker: "wörker/1 'ü'");
        Assert.Equal(LeaseStatus.Active, await s.Store.HeartbeatAsync(id, first.LeaseToken, Lease, progress, Ct));
        Assert.True(await s.Store.FailAsync(id, first.LeaseToken, new TaskFailure(error, s.Now), Ct));
        LeasedTask second = await s.ClaimOneAsync(queue, worker: "wörker/1 'ü'");

        Assert.Equal(queue, second.Queue);
        Assert.Equal(uniqueKey, second.UniqueKey);
        Assert.Equal(progress, second.Progress);
        Assert.Equal(error, second.LastError);
        TaskSnapshot task = await s.GetAsync(id);
        Assert.Equal(queue, task.Queue);
        Assert.Equal("wörker/1 'ü'", task.LeasedBy);
        Assert.Equal(uniqueKey, task.UniqueKey);
        Assert.Equal(new EnqueueResult(id, false), Assert.Single(await s.Store.EnqueueAsync([s.Insert(queue, uniqueKey: uniqueKey)], Ct)));
        Assert.Equal(queue, Assert.Single(await s.Store.GetStatisticsAsync(Ct)).Queue);
        Assert.Single(await s.ListAsync(queue: queue));
    }

    [Fact]
    public async Task Claim_ConcurrentClaimers_NeverGetTheSameTaskTwice()
    {
        TaskStoreHarness s = await StartAsync();
        const int taskCount = 500;
        IReadOnlyList<EnqueueResult> enqueued = await s.Store.EnqueueAsync([.. Enumerable.Range(0, taskCount).Select(i => s.Insert(priority: i % 7))], Ct);
        var claims = new ConcurrentBag<(string Worker, LeasedTask Task)>();

        async Task ClaimUntilEmptyAsync(string worker)
        {
            await Task.Yield();
            while (true)
            {
                IReadOnlyList<LeasedTask> batch = await s.Store.ClaimAsync(new ClaimRequest(TaskStoreHarness.DefaultQueue, worker, 3, Lease), Ct);
                if (batch.Count == 0)
                {
                    return;
                }

                foreach (LeasedTask task in batch)
                {
                    claims.Add((worker, task));
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() => ClaimUntilEmptyAsync($"worker-{w}"), Ct)));

        long[] claimedIds = [.. claims.Select(c => c.Task.Id).Order()];
        Assert.Equal(taskCount, claimedIds.Length);
        Assert.Equal(enqueued.Select(r => r.TaskId).Order().ToArray(), claimedIds);
        Assert.All(claims, c => Assert.Equal(1, c.Task.Attempt));

        // Every claimer really holds what it got: completing with its own token succeeds, in parallel too.
        bool[] completed = await Task.WhenAll(claims.Select(c => Task.Run(async () => await s.Store.CompleteAsync(c.Task.Id, c.Task.LeaseToken, Ct), Ct)));
        Assert.All(completed, c => Assert.True(c));
        Assert.Equal(taskCount, (await s.ListAsync(state: TaskState.Completed)).Count);
        Assert.Empty(await s.ClaimAsync());
    }

    [Fact]
    public async Task Enqueue_ConcurrentCallsWithTheSameUniqueKey_CreateExactlyOneTask()
    {
        TaskStoreHarness s = await StartAsync();

        EnqueueResult[] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(
            async () => Assert.Single(await s.Store.EnqueueAsync([s.Insert(payload: [(byte)i], uniqueKey: "once")], Ct)), Ct)));

        Assert.Single(results, r => r.Created);
        Assert.Single(results.Select(r => r.TaskId).Distinct());
        Assert.Single(await s.ListAsync());
    }
}
