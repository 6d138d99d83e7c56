using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using BuildingBlocks.TaskQueue.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Tests.Client;

public sealed class TaskQueueClientTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryTaskStore _store;
    private readonly TaskNotifier _notifier = new();

    public TaskQueueClientTests()
    {
        _store = new InMemoryTaskStore(_time);
    }

    private static readonly JsonSerializerOptions WebOptions = new(JsonSerializerDefaults.Web);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TaskQueueClient CreateClient(Action<TaskQueueOptions>? configure = null)
    {
        var options = new TaskQueueOptions { WorkerId = "test-worker", RetryJitter = 0 };
        configure?.Invoke(options);
        return new TaskQueueClient(_store, options, _time, _notifier, meterFactory: null);
    }

    private static NewTask Work(string queue = "orders", int size = 3) => new(queue, new byte[size]);

    // ---- validation ----

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t\n")]
    public async Task Enqueue_BlankQueueName_IsRejectedWithAClearMessage_AndNothingIsStored(string queue)
    {
        TaskQueueClient client = CreateClient();

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () => await client.EnqueueAsync(Work(queue), Ct));

        Assert.Contains("queue name must be 1 to 200 characters and not blank", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task Enqueue_NullQueueName_ThrowsArgumentNullException()
    {
        TaskQueueClient client = CreateClient();

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await client.EnqueueAsync(new NewTask(null!, new byte[1]), Ct));
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task Enqueue_QueueNameLongerThan200Characters_IsRejected_And200AreAccepted()
    {
        TaskQueueClient client = CreateClient();
        string tooLong = new('q', TaskQueueClient.MaxQueueNameLength + 1);

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () => await client.EnqueueAsync(Work(tooLong), Ct));

        Assert.Contains("1 to 200 characters", error.Message, StringComparison.Ordinal);
        Assert.Contains(tooLong, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);
        Assert.True((await client.EnqueueAsync(Work(new string('q', 200)), Ct)).Created);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    public async Task Enqueue_MaxAttemptsOutOfRange_IsRejectedNamingTheValue(int maxAttempts)
    {
        TaskQueueClient client = CreateClient();

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = maxAttempts }, Ct));

        Assert.Contains("NewTask.MaxAttempts must be between 1 and 1000", error.Message, StringComparison.Ordinal);
        Assert.Contains($"it was {maxAttempts}", error.Message, StringComparison.Ordinal);
        Assert.Contains("'orders'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task Enqueue_MaxAttemptsAtTheBounds_IsAccepted_AndTheDefaultComesFromOptions()
    {
        TaskQueueClient client = CreateClient(o => o.DefaultMaxAttempts = 7);

        long one = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = 1 }, Ct)).TaskId;
        long thousand = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = 1000 }, Ct)).TaskId;
        long byDefault = (await client.EnqueueAsync(Work(), Ct)).TaskId;

        Assert.Equal(1, (await client.GetAsync(one, Ct))!.MaxAttempts);
        Assert.Equal(1000, (await client.GetAsync(thousand, Ct))!.MaxAttempts);
        Assert.Equal(7, (await client.GetAsync(byDefault, Ct))!.MaxAttempts);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(401)]
    public async Task Enqueue_UniqueKeyEmptyOrLongerThan400_IsRejected(int length)
    {
        TaskQueueClient client = CreateClient();

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await client.EnqueueAsync(new NewTask("orders", new byte[1]) { UniqueKey = new string('k', length) }, Ct));

        Assert.Contains("NewTask.UniqueKey must be 1 to 400 characters", error.Message, StringComparison.Ordinal);
        Assert.Contains($"it was {length}", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyOf400Characters_IsAccepted_AndDeduplicates()
    {
        TaskQueueClient client = CreateClient();
        string key = new('k', TaskQueueClient.MaxUniqueKeyLength);

        EnqueueResult first = await client.EnqueueAsync(new NewTask("orders", new byte[1]) { UniqueKey = key }, Ct);
        EnqueueResult second = await client.EnqueueAsync(new NewTask("orders", new byte[2]) { UniqueKey = key }, Ct);

        Assert.True(first.Created);
        Assert.Equal(new EnqueueResult(first.TaskId, Created: false), second);
        Assert.Equal(1, _store.Count);
    }

    [Fact]
    public async Task Enqueue_PayloadOverMaxPayloadBytes_ThrowsPayloadTooLarge_AndNothingIsStored()
    {
        TaskQueueClient client = CreateClient(o => o.MaxPayloadBytes = 100);

        PayloadTooLargeException error = await Assert.ThrowsAsync<PayloadTooLargeException>(async () => await client.EnqueueAsync(Work(size: 101), Ct));

        Assert.Equal("orders", error.Queue);
        Assert.Equal(101, error.Size);
        Assert.Equal(100, error.Limit);
        Assert.Contains("101 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxPayloadBytes (100)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was enqueued", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);

        Assert.True((await client.EnqueueAsync(Work(size: 100), Ct)).Created);
    }

    [Fact]
    public async Task EnqueueBatch_WithOneInvalidTask_StoresNone()
    {
        TaskQueueClient client = CreateClient(o => o.MaxPayloadBytes = 10);

        await Assert.ThrowsAsync<PayloadTooLargeException>(async () =>
            await client.EnqueueBatchAsync([Work(), Work("other"), Work(size: 11)], Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await client.EnqueueBatchAsync([Work(), new NewTask("orders", new byte[1]) { MaxAttempts = 0 }], Ct));

        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task EnqueueBatch_WithANullTask_SaysWhichOne_AndStoresNone()
    {
        TaskQueueClient client = CreateClient();

        ArgumentNullException error = await Assert.ThrowsAsync<ArgumentNullException>(async () =>
            await client.EnqueueBatchAsync([Work(), null!], Ct));

        Assert.Contains("Task 1 of the batch is null", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task EnqueueBatch_Empty_ReturnsEmpty_AndStoresNothing()
    {
        TaskQueueClient client = CreateClient();

        Assert.Empty(await client.EnqueueBatchAsync([], Ct));
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task EnqueueBatch_StoresEveryTaskInOrder()
    {
        TaskQueueClient client = CreateClient();

        IReadOnlyList<EnqueueResult> results = await client.EnqueueBatchAsync([Work("a", 1), Work("b", 2), Work("a", 3)], Ct);

        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.True(r.Created));
        Assert.Equal(new[] { "a", "b", "a" }, await Task.WhenAll(results.Select(async r => (await client.GetAsync(r.TaskId, Ct))!.Queue)));
        Assert.Equal(3, (await client.GetAsync(results[2].TaskId, Ct))!.Payload.Length);
    }

    // ---- defaults and times ----

    [Fact]
    public async Task Enqueue_RunAtInThePast_BecomesNow_AndAFutureRunAtIsKept()
    {
        TaskQueueClient client = CreateClient();

        long past = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { RunAt = Start.AddHours(-3) }, Ct)).TaskId;
        long future = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { RunAt = Start.AddMinutes(5) }, Ct)).TaskId;
        long unset = (await client.EnqueueAsync(Work(), Ct)).TaskId;

        TaskSnapshot pastTask = (await client.GetAsync(past, Ct))!;
        Assert.Equal(Start, pastTask.RunAt);
        Assert.Equal(Start, pastTask.EnqueuedAt);
        Assert.Equal(Start.AddMinutes(5), (await client.GetAsync(future, Ct))!.RunAt);
        Assert.Equal(Start, (await client.GetAsync(unset, Ct))!.RunAt);
    }

    [Fact]
    public async Task Enqueue_KeepsPriorityAndUniqueKey()
    {
        TaskQueueClient client = CreateClient();

        long id = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { Priority = -3, UniqueKey = "k" }, Ct)).TaskId;

        TaskSnapshot task = (await client.GetAsync(id, Ct))!;
        Assert.Equal(-3, task.Priority);
        Assert.Equal("k", task.UniqueKey);
        Assert.Equal(TaskState.Queued, task.State);
    }

    // ---- typed payloads ----

    private sealed record OrderPlaced(int OrderId, string CustomerName, decimal Total);

    [Fact]
    public async Task EnqueueTyped_WithDefaultOptions_StoresCamelCaseJson_ThatReadsBackWithTheWebDefaults()
    {
        TaskQueueClient client = CreateClient();
        var payload = new OrderPlaced(42, "Ada Lovelace", 12.5m);

        EnqueueResult result = await client.EnqueueAsync("orders", payload, new EnqueueOptions { Priority = 2, UniqueKey = "order-42", MaxAttempts = 4 }, Ct);

        TaskSnapshot task = (await client.GetAsync(result.TaskId, Ct))!;
        Assert.Equal("{\"orderId\":42,\"customerName\":\"Ada Lovelace\",\"total\":12.5}", Encoding.UTF8.GetString(task.Payload.Span));
        Assert.Equal(payload, JsonSerializer.Deserialize<OrderPlaced>(task.Payload.Span, WebOptions));
        Assert.Equal(2, task.Priority);
        Assert.Equal("order-42", task.UniqueKey);
        Assert.Equal(4, task.MaxAttempts);
    }

    [Fact]
    public async Task EnqueueTyped_WithAReflectionResolver_StoresCamelCaseJson()
    {
        TaskQueueClient client = CreateClient(o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });

        EnqueueResult result = await client.EnqueueAsync("orders", new OrderPlaced(7, "Grace", 1m), cancellationToken: Ct);

        TaskSnapshot task = (await client.GetAsync(result.TaskId, Ct))!;
        Assert.Equal("{\"orderId\":7,\"customerName\":\"Grace\",\"total\":1}", Encoding.UTF8.GetString(task.Payload.Span));
    }

    [Fact]
    public async Task EnqueueTyped_WithASourceGeneratedContext_UsesIt()
    {
        TaskQueueClient client = CreateClient(o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = TestJsonContext.Default });

        EnqueueResult result = await client.EnqueueAsync("orders", new GeneratedPayload { Name = "x", Count = 3 }, cancellationToken: Ct);

        Assert.Equal("{\"name\":\"x\",\"count\":3}", Encoding.UTF8.GetString((await client.GetAsync(result.TaskId, Ct))!.Payload.Span));
    }

    [Fact]
    public async Task EnqueueTyped_PayloadOverTheLimit_ThrowsPayloadTooLarge_AndNothingIsStored()
    {
        TaskQueueClient client = CreateClient(o =>
        {
            o.MaxPayloadBytes = 20;
            o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        });

        PayloadTooLargeException error = await Assert.ThrowsAsync<PayloadTooLargeException>(async () =>
            await client.EnqueueAsync("orders", new string('x', 50), cancellationToken: Ct));

        Assert.Equal(52, error.Size);
        Assert.Equal(0, _store.Count);
    }

    private sealed class Node
    {
        public Node? Next { get; set; }
    }

    [Fact]
    public async Task EnqueueTyped_PayloadThatCannotBeSerialized_ThrowsArgumentException_AndNothingIsStored()
    {
        TaskQueueClient client = CreateClient(o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });
        var cycle = new Node();
        cycle.Next = cycle;

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () => await client.EnqueueAsync("orders", cycle, cancellationToken: Ct));

        Assert.Equal("payload", error.ParamName);
        Assert.Contains("could not be serialized", error.Message, StringComparison.Ordinal);
        Assert.Contains("'orders'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);
    }

    private sealed class CollidingNames
    {
        public int Name { get; set; }

        [JsonPropertyName("name")]
        public int Other { get; set; }
    }

    [Fact]
    public async Task EnqueueTyped_TypeWhoseJsonContractIsInvalid_ThrowsArgumentException_AndNothingIsStored()
    {
        TaskQueueClient client = CreateClient(o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await client.EnqueueAsync("orders", new CollidingNames(), cancellationToken: Ct));

        Assert.Contains("could not be serialized", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.Count);
    }

    // ---- wake-ups ----

    [Fact]
    public async Task Enqueue_WakesAWorkerWaitingOnThatQueue()
    {
        TaskQueueClient client = CreateClient();
        Task<bool> waiting = _notifier.WaitAsync("orders", TimeSpan.FromMinutes(1), _time, Ct).AsTask();
        Assert.False(waiting.IsCompleted);

        await client.EnqueueAsync(Work(), Ct);

        Assert.True(await waiting);
    }

    [Fact]
    public async Task EnqueueBatch_WakesWorkersOfEveryQueueInTheBatch()
    {
        TaskQueueClient client = CreateClient();
        Task<bool> a = _notifier.WaitAsync("a", TimeSpan.FromMinutes(1), _time, Ct).AsTask();
        Task<bool> b = _notifier.WaitAsync("b", TimeSpan.FromMinutes(1), _time, Ct).AsTask();
        Task<bool> c = _notifier.WaitAsync("c", TimeSpan.FromMinutes(1), _time, Ct).AsTask();

        await client.EnqueueBatchAsync([Work("a"), Work("b"), Work("a")], Ct);

        Assert.True(await a);
        Assert.True(await b);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(await c);
    }

    [Fact]
    public async Task RedriveAll_WakesTheQueue_AndRedrivesOnlyItsDeadLetters()
    {
        TaskQueueClient client = CreateClient();
        await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = 1 }, Ct);
        TaskLease lease = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        Assert.Null(await lease.FailAsync(new InvalidOperationException("boom"), cancellationToken: Ct));
        Task<bool> waiting = _notifier.WaitAsync("orders", TimeSpan.FromMinutes(1), _time, Ct).AsTask();

        Assert.Equal(1, await client.RedriveAllAsync("orders", Ct));

        Assert.True(await waiting);
        Assert.Equal(TaskState.Queued, (await client.GetAsync(lease.Task.Id, Ct))!.State);
        await Assert.ThrowsAsync<ArgumentException>(async () => await client.RedriveAllAsync(" ", Ct));
    }

    [Fact]
    public async Task Redrive_OneDeadLetter_RequeuesIt_AndWakesItsQueue()
    {
        TaskQueueClient client = CreateClient();
        await client.EnqueueAsync(Work("mail"), Ct);
        TaskLease lease = Assert.Single(await client.ClaimAsync("mail", 1, Ct));
        Assert.Null(await lease.FailAsync(new PermanentTaskFailureException("bad"), cancellationToken: Ct));
        Task<bool> waiting = _notifier.WaitAsync("mail", TimeSpan.FromMinutes(1), _time, Ct).AsTask();

        Assert.True(await client.RedriveAsync(lease.Task.Id, Ct));

        Assert.True(await waiting);
        Assert.False(await client.RedriveAsync(lease.Task.Id, Ct));
        Assert.False(await client.RedriveAsync(999, Ct));
    }

    // ---- manual claims ----

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task Claim_MaxCountOutOfRange_IsRejected(int maxCount)
    {
        TaskQueueClient client = CreateClient();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await client.ClaimAsync("orders", maxCount, Ct));
    }

    [Fact]
    public async Task Claim_BlankQueue_IsRejected()
    {
        TaskQueueClient client = CreateClient();

        await Assert.ThrowsAsync<ArgumentException>(async () => await client.ClaimAsync("", 1, Ct));
    }

    [Fact]
    public async Task Claim_LeasesWithTheOptionsWorkerIdAndLeaseDuration()
    {
        TaskQueueClient client = CreateClient(o => o.LeaseDuration = TimeSpan.FromSeconds(90));
        await client.EnqueueBatchAsync([Work(), Work(), Work()], Ct);

        IReadOnlyList<TaskLease> leases = await client.ClaimAsync("orders", 2, Ct);

        Assert.Equal(2, leases.Count);
        Assert.All(leases, l => Assert.Equal(Start.AddSeconds(90), l.Task.LeaseExpiresAt));
        Assert.Equal("test-worker", (await client.GetAsync(leases[0].Task.Id, Ct))!.LeasedBy);
        Assert.Empty(await client.ClaimAsync("empty", 5, Ct));
    }

    [Fact]
    public async Task Lease_HeartbeatCompleteLifecycle_Succeeds()
    {
        TaskQueueClient client = CreateClient(o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        await client.EnqueueAsync(Work(), Ct);
        TaskLease lease = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        _time.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal(LeaseStatus.Active, await lease.HeartbeatAsync("half", Ct));
        Assert.Equal(_time.GetUtcNow().AddSeconds(30), (await client.GetAsync(lease.Task.Id, Ct))!.LeaseExpiresAt);
        Assert.Equal(CancelResult.CancelRequested, await client.CancelAsync(lease.Task.Id, Ct));
        Assert.Equal(LeaseStatus.CancelRequested, await lease.HeartbeatAsync(cancellationToken: Ct));

        await lease.CompleteAsync(Ct);

        TaskSnapshot done = (await client.GetAsync(lease.Task.Id, Ct))!;
        Assert.Equal(TaskState.Completed, done.State);
        Assert.Equal("half", done.Progress);
    }

    [Fact]
    public async Task Lease_AfterTheSweeperTookIt_EveryOperationThrowsLeaseLost_AndChangesNothing()
    {
        TaskQueueClient client = CreateClient(o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        await client.EnqueueAsync(Work(), Ct);
        TaskLease lease = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(new SweepResult(1, 0), await _store.RecoverExpiredLeasesAsync(Ct));
        TaskSnapshot before = (await client.GetAsync(lease.Task.Id, Ct))!;

        LeaseLostException heartbeat = await Assert.ThrowsAsync<LeaseLostException>(async () => await lease.HeartbeatAsync("late", Ct));
        LeaseLostException complete = await Assert.ThrowsAsync<LeaseLostException>(async () => await lease.CompleteAsync(Ct));
        LeaseLostException fail = await Assert.ThrowsAsync<LeaseLostException>(async () => await lease.FailAsync(new InvalidOperationException("late"), cancellationToken: Ct));
        LeaseLostException release = await Assert.ThrowsAsync<LeaseLostException>(async () => await lease.ReleaseAsync(Ct));

        Assert.Equal(
            new[] { "heartbeat", "complete", "fail", "release" },
            new[] { heartbeat.Operation, complete.Operation, fail.Operation, release.Operation });
        Assert.All(new[] { heartbeat, complete, fail, release }, e =>
        {
            Assert.Equal(lease.Task.Id, e.TaskId);
            Assert.Equal(lease.Task.LeaseToken, e.LeaseToken);
            Assert.Contains($"task {lease.Task.Id}", e.Message, StringComparison.Ordinal);
        });
        TaskStoreHarness.AssertSameSnapshot(before, (await client.GetAsync(lease.Task.Id, Ct))!);
    }

    [Fact]
    public async Task Lease_AfterAnotherWorkerReclaimedTheTask_CannotCompleteIt()
    {
        TaskQueueClient client = CreateClient(o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        await client.EnqueueAsync(Work(), Ct);
        TaskLease stale = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        _time.Advance(TimeSpan.FromSeconds(31));
        await _store.RecoverExpiredLeasesAsync(Ct);
        TaskLease fresh = Assert.Single(await client.ClaimAsync("orders", 1, Ct));

        await Assert.ThrowsAsync<LeaseLostException>(async () => await stale.CompleteAsync(Ct));

        Assert.Equal(TaskState.Leased, (await client.GetAsync(fresh.Task.Id, Ct))!.State);
        await fresh.CompleteAsync(Ct);
        Assert.Equal(TaskState.Completed, (await client.GetAsync(fresh.Task.Id, Ct))!.State);
    }

    [Fact]
    public async Task Lease_Fail_SchedulesRetriesWithExponentialBackoff_ThenDeadLettersAfterMaxAttempts()
    {
        TaskQueueClient client = CreateClient(o =>
        {
            o.RetryBaseDelay = TimeSpan.FromSeconds(2);
            o.RetryMaxDelay = TimeSpan.FromMinutes(1);
            o.RetryJitter = 0;
        });
        long id = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = 3 }, Ct)).TaskId;

        TaskLease first = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        Assert.Equal(_time.GetUtcNow().AddSeconds(2), await first.FailAsync(new InvalidOperationException("first"), cancellationToken: Ct));
        Assert.Empty(await client.ClaimAsync("orders", 1, Ct));
        _time.Advance(TimeSpan.FromSeconds(2));

        TaskLease second = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        Assert.Equal(2, second.Task.Attempt);
        Assert.Equal("System.InvalidOperationException: first", second.Task.LastError);
        Assert.Equal(_time.GetUtcNow().AddSeconds(4), await second.FailAsync(new TimeoutException("second"), cancellationToken: Ct));
        _time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await client.ClaimAsync("orders", 1, Ct));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        TaskLease third = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        Assert.Equal(3, third.Task.Attempt);
        Assert.Null(await third.FailAsync(new InvalidOperationException("third"), cancellationToken: Ct));

        TaskSnapshot dead = (await client.GetAsync(id, Ct))!;
        Assert.Equal(TaskState.DeadLettered, dead.State);
        Assert.Equal("System.InvalidOperationException: third", dead.LastError);
        Assert.Equal(3, dead.Attempts);
    }

    [Fact]
    public async Task Lease_FailWithPermanentTaskFailureException_DeadLettersAtOnce()
    {
        TaskQueueClient client = CreateClient();
        long id = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = 5 }, Ct)).TaskId;
        TaskLease lease = Assert.Single(await client.ClaimAsync("orders", 1, Ct));

        Assert.Null(await lease.FailAsync(new PermanentTaskFailureException("customer does not exist"), cancellationToken: Ct));

        TaskSnapshot dead = (await client.GetAsync(id, Ct))!;
        Assert.Equal(TaskState.DeadLettered, dead.State);
        Assert.Equal(1, dead.Attempts);
        Assert.Equal("BuildingBlocks.TaskQueue.PermanentTaskFailureException: customer does not exist", dead.LastError);
    }

    [Fact]
    public async Task Lease_FailMarkedPermanent_DeadLettersAtOnce()
    {
        TaskQueueClient client = CreateClient();
        long id = (await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = 5 }, Ct)).TaskId;
        TaskLease lease = Assert.Single(await client.ClaimAsync("orders", 1, Ct));

        Assert.Null(await lease.FailAsync(new FormatException("bad input"), permanent: true, Ct));

        Assert.Equal(TaskState.DeadLettered, (await client.GetAsync(id, Ct))!.State);
    }

    [Fact]
    public async Task Lease_Release_HandsTheTaskBackWithoutUsingAnAttempt()
    {
        TaskQueueClient client = CreateClient();
        await client.EnqueueAsync(new NewTask("orders", new byte[1]) { MaxAttempts = 1 }, Ct);
        TaskLease lease = Assert.Single(await client.ClaimAsync("orders", 1, Ct));

        await lease.ReleaseAsync(Ct);

        TaskLease again = Assert.Single(await client.ClaimAsync("orders", 1, Ct));
        Assert.Equal(1, again.Task.Attempt);
        await Assert.ThrowsAsync<LeaseLostException>(async () => await lease.ReleaseAsync(Ct));
    }

    // ---- queries and construction ----

    [Fact]
    public async Task List_InvalidQuery_IsRejectedBeforeTheStore()
    {
        TaskQueueClient client = CreateClient();

        ArgumentOutOfRangeException error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await client.ListAsync(new TaskQuery { Limit = 0 }, Ct));

        Assert.Contains("TaskQuery.Limit must be between 1 and 10000; it was 0", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await client.ListAsync(new TaskQuery { AfterId = -1 }, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await client.ListAsync(new TaskQuery { State = (TaskState)42 }, Ct));
    }

    [Fact]
    public async Task Statistics_AndCancel_PassThroughToTheStore()
    {
        TaskQueueClient client = CreateClient();
        long id = (await client.EnqueueAsync(Work(), Ct)).TaskId;

        Assert.Equal(CancelResult.Canceled, await client.CancelAsync(id, Ct));
        Assert.Equal(CancelResult.AlreadyFinished, await client.CancelAsync(id, Ct));
        Assert.Equal(CancelResult.NotFound, await client.CancelAsync(id + 1, Ct));
        QueueStatistics stats = Assert.Single(await client.GetStatisticsAsync(Ct));
        Assert.Equal(1, stats.Canceled);
        Assert.Same(_store, client.Store);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingTheOptionAndValue()
    {
        var options = new TaskQueueOptions { LeaseDuration = TimeSpan.FromMilliseconds(500), HeartbeatInterval = TimeSpan.FromMilliseconds(100), DefaultMaxAttempts = 0 };

        ArgumentException error = Assert.Throws<ArgumentException>(() => new TaskQueueClient(_store, options, _time, notifier: null, meterFactory: null));

        Assert.Equal("options", error.ParamName);
        Assert.Contains("TaskQueueOptions.LeaseDuration is 00:00:00.5000000", error.Message, StringComparison.Ordinal);
        Assert.Contains("TaskQueueOptions.DefaultMaxAttempts is 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new TaskQueueClient(null!));
        Assert.Throws<ArgumentNullException>(() => new TaskQueueClient(_store, null!, _time, notifier: null, meterFactory: null));
        Assert.Throws<ArgumentNullException>(() => new TaskQueueClient(_store, new TaskQueueOptions(), null!, notifier: null, meterFactory: null));
    }

    [Fact]
    public async Task Constructor_WithOnlyAStore_Works()
    {
        var client = new TaskQueueClient(new InMemoryTaskStore());

        EnqueueResult result = await client.EnqueueAsync(Work(), Ct);

        Assert.True(result.Created);
        Assert.Single(await client.ClaimAsync("orders", 10, Ct));
    }
}

public sealed class GeneratedPayload
{
    public string Name { get; set; } = "";

    public int Count { get; set; }
}

[JsonSerializable(typeof(GeneratedPayload))]
internal sealed partial class TestJsonContext : JsonSerializerContext;
