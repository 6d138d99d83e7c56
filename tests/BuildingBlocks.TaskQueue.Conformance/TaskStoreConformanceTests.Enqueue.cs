namespace BuildingBlocks.TaskQueue.Conformance;

public abstract partial class TaskStoreConformanceTests
{
    [Fact]
    public async Task Enqueue_ReturnsGrowingIds_WithCreatedTrue()
    {
        TaskStoreHarness s = await StartAsync();

        var ids = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            EnqueueResult single = Assert.Single(await s.Store.EnqueueAsync([s.Insert()], Ct));
            Assert.True(single.Created);
            ids.Add(single.TaskId);
        }

        IReadOnlyList<EnqueueResult> batch = await s.Store.EnqueueAsync([s.Insert(), s.Insert("other"), s.Insert()], Ct);
        Assert.Equal(3, batch.Count);
        Assert.All(batch, r => Assert.True(r.Created));
        ids.AddRange(batch.Select(r => r.TaskId));

        Assert.All(ids, id => Assert.True(id > 0, $"Task ids are positive; got {id}."));
        for (int i = 1; i < ids.Count; i++)
        {
            Assert.True(ids[i] > ids[i - 1], $"Ids must grow with every enqueue: {string.Join(", ", ids)}.");
        }
    }

    [Fact]
    public async Task Enqueue_StoresEveryFieldAsGiven_QueuedAndNeverLeased()
    {
        TaskStoreHarness s = await StartAsync();
        DateTimeOffset enqueuedAt = Start.AddMilliseconds(-1_500);
        DateTimeOffset runAt = Start.AddMinutes(5);
        var insert = new TaskInsert
        {
            Queue = "emails",
            Payload = new byte[] { 10, 20, 30 },
            Priority = -7,
            EnqueuedAt = enqueuedAt,
            RunAt = runAt,
            MaxAttempts = 9,
            UniqueKey = "welcome-42",
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        };

        long id = Assert.Single(await s.Store.EnqueueAsync([insert], Ct)).TaskId;
        TaskSnapshot task = await s.GetAsync(id);

        Assert.Equal(id, task.Id);
        Assert.Equal("emails", task.Queue);
        Assert.Equal(TaskState.Queued, task.State);
        Assert.Equal(new byte[] { 10, 20, 30 }, task.Payload.ToArray());
        Assert.Equal(-7, task.Priority);
        Assert.Equal(0, task.Attempts);
        Assert.Equal(9, task.MaxAttempts);
        Assert.Equal(enqueuedAt, task.EnqueuedAt);
        Assert.Equal(runAt, task.RunAt);
        Assert.Null(task.LeaseExpiresAt);
        Assert.Null(task.LeasedBy);
        Assert.Null(task.Progress);
        Assert.Null(task.LastError);
        Assert.Null(task.FinishedAt);
        Assert.False(task.CancelRequested);
        Assert.Equal("welcome-42", task.UniqueKey);
    }

    [Fact]
    public async Task Enqueue_Batch_ReturnsOneResultPerTaskInOrder()
    {
        TaskStoreHarness s = await StartAsync();

        IReadOnlyList<EnqueueResult> results = await s.Store.EnqueueAsync(
            [s.Insert(payload: [1]), s.Insert("b", payload: [2]), s.Insert(payload: [3])], Ct);

        Assert.Equal(3, results.Count);
        Assert.Equal(new byte[] { 1 }, (await s.GetAsync(results[0].TaskId)).Payload.ToArray());
        Assert.Equal(new byte[] { 2 }, (await s.GetAsync(results[1].TaskId)).Payload.ToArray());
        Assert.Equal("b", (await s.GetAsync(results[1].TaskId)).Queue);
        Assert.Equal(new byte[] { 3 }, (await s.GetAsync(results[2].TaskId)).Payload.ToArray());
    }

    [Fact]
    public async Task Enqueue_BatchWithANullElement_ThrowsArgumentNullException_AndStoresNothing()
    {
        TaskStoreHarness s = await StartAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(async () =>
            await s.Store.EnqueueAsync([s.Insert(uniqueKey: "first"), s.Insert(), null!], Ct));

        Assert.Empty(await s.ListAsync());
        Assert.Empty(await s.Store.GetStatisticsAsync(Ct));
        Assert.Empty(await s.ClaimAsync());

        // The unique key of the refused batch was not taken either.
        EnqueueResult again = Assert.Single(await s.Store.EnqueueAsync([s.Insert(uniqueKey: "first")], Ct));
        Assert.True(again.Created);
    }

    [Fact]
    public async Task Enqueue_EmptyBatch_ReturnsNoResults_AndStoresNothing()
    {
        TaskStoreHarness s = await StartAsync();

        Assert.Empty(await s.Store.EnqueueAsync([], Ct));

        Assert.Empty(await s.ListAsync());
    }

    [Fact]
    public async Task Enqueue_WithACanceledToken_Throws_AndStoresNothing()
    {
        TaskStoreHarness s = await StartAsync();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await s.Store.EnqueueAsync([s.Insert(), s.Insert()], canceled.Token));

        Assert.Empty(await s.ListAsync());
    }

    [Fact]
    public async Task Enqueue_CopiesThePayload_SoLaterChangesToTheCallersBufferAreNotStored()
    {
        TaskStoreHarness s = await StartAsync();
        byte[] buffer = [1, 2, 3];

        long id = await s.EnqueueAsync(payload: buffer);
        buffer[0] = 99;

        Assert.Equal(new byte[] { 1, 2, 3 }, (await s.GetAsync(id)).Payload.ToArray());
        Assert.Equal(new byte[] { 1, 2, 3 }, (await s.ClaimOneAsync()).Payload.ToArray());
    }

    [Fact]
    public async Task Enqueue_DuplicateUniqueKey_ReturnsTheExistingIdWithCreatedFalse_AndChangesNothing()
    {
        TaskStoreHarness s = await StartAsync();
        long first = await s.EnqueueAsync(payload: [1], priority: 1, uniqueKey: "invoice-7");
        TaskSnapshot before = await s.GetAsync(first);

        s.Advance(TimeSpan.FromSeconds(3));
        EnqueueResult duplicate = Assert.Single(await s.Store.EnqueueAsync([s.Insert(payload: [2], priority: 5, uniqueKey: "invoice-7")], Ct));

        Assert.Equal(new EnqueueResult(first, Created: false), duplicate);
        TaskStoreHarness.AssertSameSnapshot(before, await s.GetAsync(first));
        Assert.Single(await s.ListAsync());
    }

    [Fact]
    public async Task Enqueue_DuplicateUniqueKeyWithinOneBatch_StoresOnlyTheFirst()
    {
        TaskStoreHarness s = await StartAsync();

        IReadOnlyList<EnqueueResult> results = await s.Store.EnqueueAsync(
            [s.Insert(payload: [1], uniqueKey: "k1"), s.Insert(payload: [2], uniqueKey: "k2"), s.Insert(payload: [3], uniqueKey: "k1"), s.Insert(payload: [4])], Ct);

        Assert.Equal(4, results.Count);
        Assert.True(results[0].Created);
        Assert.True(results[1].Created);
        Assert.Equal(new EnqueueResult(results[0].TaskId, Created: false), results[2]);
        Assert.True(results[3].Created);
        Assert.Equal(3, results.Select(r => r.TaskId).Distinct().Count());

        IReadOnlyList<TaskSnapshot> stored = await s.ListAsync();
        Assert.Equal(3, stored.Count);
        Assert.Equal(new byte[] { 1 }, (await s.GetAsync(results[0].TaskId)).Payload.ToArray());
    }

    [Fact]
    public async Task Enqueue_BatchMixingNewAndExistingUniqueKeys_CreatesOnlyTheNewOnes()
    {
        TaskStoreHarness s = await StartAsync();
        long existing = await s.EnqueueAsync(uniqueKey: "old");

        IReadOnlyList<EnqueueResult> results = await s.Store.EnqueueAsync([s.Insert(uniqueKey: "new"), s.Insert(uniqueKey: "old")], Ct);

        Assert.True(results[0].Created);
        Assert.Equal(new EnqueueResult(existing, Created: false), results[1]);
        Assert.Equal(2, (await s.ListAsync()).Count);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOfAFinishedTask_StillDeduplicates_UntilPruned()
    {
        TaskStoreHarness s = await StartAsync();
        long completed = await s.EnqueueAsync(uniqueKey: "completed", maxAttempts: 1);
        LeasedTask lease = await s.ClaimOneAsync();
        Assert.True(await s.Store.CompleteAsync(completed, lease.LeaseToken, Ct));

        long deadLettered = await s.EnqueueAsync(uniqueKey: "dead");
        lease = await s.ClaimOneAsync();
        Assert.True(await s.Store.FailAsync(deadLettered, lease.LeaseToken, new TaskFailure("boom", RetryAt: null), Ct));

        long canceled = await s.EnqueueAsync(uniqueKey: "canceled");
        Assert.Equal(CancelResult.Canceled, await s.Store.CancelAsync(canceled, Ct));

        IReadOnlyList<EnqueueResult> again = await s.Store.EnqueueAsync(
            [s.Insert(uniqueKey: "completed"), s.Insert(uniqueKey: "dead"), s.Insert(uniqueKey: "canceled")], Ct);

        Assert.Equal(
            new[] { new EnqueueResult(completed, false), new EnqueueResult(deadLettered, false), new EnqueueResult(canceled, false) },
            again.ToArray());
        Assert.Equal(3, (await s.ListAsync()).Count);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyAfterItsTaskWasPruned_CreatesANewTask()
    {
        TaskStoreHarness s = await StartAsync();
        long keyed = await s.EnqueueAsync(uniqueKey: "report-2030-01");
        LeasedTask lease = await s.ClaimOneAsync();
        Assert.True(await s.Store.CompleteAsync(keyed, lease.LeaseToken, Ct));
        s.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await s.Store.PruneAsync(s.Now, s.Now, Ct));

        EnqueueResult again = Assert.Single(await s.Store.EnqueueAsync([s.Insert(uniqueKey: "report-2030-01")], Ct));

        Assert.True(again.Created);
        Assert.True(again.TaskId > keyed, "A pruned task's id is never reused.");
        Assert.Equal(TaskState.Queued, (await s.GetAsync(again.TaskId)).State);
    }

    [Fact]
    public async Task Enqueue_UniqueKeysAreCaseSensitive()
    {
        TaskStoreHarness s = await StartAsync();

        IReadOnlyList<EnqueueResult> results = await s.Store.EnqueueAsync([s.Insert(uniqueKey: "Key"), s.Insert(uniqueKey: "key"), s.Insert(uniqueKey: "KEY ")], Ct);

        Assert.All(results, r => Assert.True(r.Created));
        Assert.Equal(3, (await s.ListAsync()).Count);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyIsStoreWide_SoTheSameKeyInAnotherQueueReturnsTheExistingTask()
    {
        TaskStoreHarness s = await StartAsync();
        long first = await s.EnqueueAsync("queue-a", uniqueKey: "shared");

        EnqueueResult other = Assert.Single(await s.Store.EnqueueAsync([s.Insert("queue-b", uniqueKey: "shared")], Ct));

        Assert.Equal(new EnqueueResult(first, Created: false), other);
        Assert.Empty(await s.ListAsync(queue: "queue-b"));
    }

    [Fact]
    public async Task Enqueue_AfterTheNewestTaskWasPruned_NeverReusesItsId()
    {
        TaskStoreHarness s = await StartAsync();
        await s.EnqueueAsync();
        LeasedTask newest = await s.EnqueueAndClaimAsync("other");
        Assert.True(await s.Store.CompleteAsync(newest.Id, newest.LeaseToken, Ct));
        s.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await s.Store.PruneAsync(s.Now, s.Now, Ct));

        long next = await s.EnqueueAsync();

        Assert.True(next > newest.Id, $"Id {next} was issued after id {newest.Id} was pruned; ids must keep growing.");
        Assert.Null(await s.Store.GetAsync(newest.Id, Ct));
    }

    [Fact]
    public async Task Enqueue_ManyTasksInOneBatch_AreAllStored()
    {
        TaskStoreHarness s = await StartAsync();

        IReadOnlyList<EnqueueResult> results = await s.Store.EnqueueAsync([.. Enumerable.Range(0, 1_000).Select(i => s.Insert(payload: BitConverter.GetBytes(i)))], Ct);

        Assert.Equal(1_000, results.Select(r => r.TaskId).Distinct().Count());
        IReadOnlyList<TaskSnapshot> stored = await s.ListAsync();
        Assert.Equal(1_000, stored.Count);
        Assert.Equal(results.Select(r => r.TaskId), stored.Select(t => t.Id));
        Assert.Equal(BitConverter.GetBytes(999), stored[^1].Payload.ToArray());
    }
}
