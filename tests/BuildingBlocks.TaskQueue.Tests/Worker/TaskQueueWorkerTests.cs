// Queue calls here are bounded by explicit waits (WaitForStateAsync, WaitAsync with a timeout), not by the test token.
#pragma warning disable xUnit1051

using System.Collections.Concurrent;
using System.Text;
using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.TaskQueue.Tests.Worker;

public sealed class TaskQueueWorkerTests
{
    private static NewTask Task(string queue, string payload = "x", int? maxAttempts = null) =>
        new(queue, Encoding.UTF8.GetBytes(payload)) { MaxAttempts = maxAttempts };

    [Fact]
    public async Task Worker_RunsEveryEnqueuedTask_AndCompletesEachOnce()
    {
        var runs = new ConcurrentDictionary<long, int>();
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("orders", (ctx, _) =>
            {
                runs.AddOrUpdate(ctx.TaskId, 1, (_, n) => n + 1);
                return ValueTask.CompletedTask;
            }, o => o.Concurrency = 4));

        IReadOnlyList<EnqueueResult> ids = await host.Queue.EnqueueBatchAsync([.. Enumerable.Range(0, 50).Select(i => Task("orders", $"order {i}"))]);
        foreach (EnqueueResult id in ids)
        {
            await host.WaitForStateAsync(id.TaskId, TaskState.Completed);
        }

        Assert.Equal(ids.Select(i => i.TaskId).Order(), runs.Keys.Order());
        Assert.All(runs.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Worker_WakesOnEnqueueInProcess_WithoutWaitingForThePollInterval()
    {
        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(o =>
            {
                WorkerHost.FastTimings(o);
                o.PollInterval = TimeSpan.FromHours(1);
            })
            .AddHandler("wake", (ctx, _) =>
            {
                started.TrySetResult(ctx.TaskId);
                return ValueTask.CompletedTask;
            }));

        // Let the processor drain the empty queue and go to sleep for an hour, then enqueue.
        await host.Queue.GetStatisticsAsync();
        await System.Threading.Tasks.Task.Delay(200, TestContext.Current.CancellationToken);
        EnqueueResult result = await host.Queue.EnqueueAsync(Task("wake"));

        long ran = await started.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(result.TaskId, ran);
    }

    [Fact]
    public async Task Handler_ThatKeepsThrowing_IsRetriedThenDeadLetteredWithItsLastError()
    {
        var attempts = new ConcurrentBag<int>();
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("flaky", (ctx, _) =>
            {
                attempts.Add(ctx.Attempt);
                throw new InvalidOperationException($"boom on attempt {ctx.Attempt}");
            }));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("flaky", maxAttempts: 3));
        await host.WaitForStateAsync(result.TaskId, TaskState.DeadLettered);

        TaskSnapshot task = (await host.Queue.GetAsync(result.TaskId))!;
        Assert.Equal([1, 2, 3], attempts.Order());
        Assert.Equal(3, task.Attempts);
        Assert.Contains("InvalidOperationException: boom on attempt 3", task.LastError, StringComparison.Ordinal);
        IReadOnlyList<TaskSnapshot> deadLetters = await host.Queue.ListAsync(new TaskQuery { State = TaskState.DeadLettered });
        Assert.Equal(result.TaskId, Assert.Single(deadLetters).Id);
    }

    [Fact]
    public async Task Handler_ThatSucceedsOnALaterAttempt_CompletesTheTask()
    {
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("eventually", (ctx, _) => ctx.Attempt < 3 ? throw new TimeoutException("service busy") : ValueTask.CompletedTask));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("eventually", maxAttempts: 5));
        await host.WaitForStateAsync(result.TaskId, TaskState.Completed);

        TaskSnapshot task = (await host.Queue.GetAsync(result.TaskId))!;
        Assert.Equal(3, task.Attempts);
        Assert.Contains("service busy", task.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handler_ThrowingPermanentFailure_IsDeadLetteredWithoutRetrying()
    {
        int runs = 0;
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("strict", (_, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new PermanentTaskFailureException("card number is invalid");
            }));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("strict", maxAttempts: 5));
        await host.WaitForStateAsync(result.TaskId, TaskState.DeadLettered);

        Assert.Equal(1, runs);
        Assert.Contains("card number is invalid", (await host.Queue.GetAsync(result.TaskId))!.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TypedHandler_WithAPayloadItCannotRead_DeadLettersTheTaskAtOnce()
    {
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler<PizzaHandler>("pizzas"));

        EnqueueResult good = await host.Queue.EnqueueAsync("pizzas", new Pizza("Ham", 2));
        EnqueueResult bad = await host.Queue.EnqueueAsync(Task("pizzas", "{ not json", maxAttempts: 5));

        await host.WaitForStateAsync(good.TaskId, TaskState.Completed);
        await host.WaitForStateAsync(bad.TaskId, TaskState.DeadLettered);
        TaskSnapshot dead = (await host.Queue.GetAsync(bad.TaskId))!;
        Assert.Equal(1, dead.Attempts);
        Assert.Contains("could not be read as", dead.LastError, StringComparison.Ordinal);
        Assert.Contains(nameof(Pizza), dead.LastError, StringComparison.Ordinal);
        Assert.Equal("{ not json", Encoding.UTF8.GetString(dead.Payload.Span));
    }

    [Fact]
    public async Task Concurrency_LimitsHowManyTasksOfAQueueRunAtOnce()
    {
        int running = 0, peak = 0, finished = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("ovens", async (_, ct) =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                await release.Task.WaitAsync(ct);
                Interlocked.Decrement(ref running);
                Interlocked.Increment(ref finished);
            }, o => o.Concurrency = 2));

        await host.Queue.EnqueueBatchAsync([.. Enumerable.Range(0, 6).Select(_ => Task("ovens"))]);
        await WorkerHost.EventuallyAsync(() => System.Threading.Tasks.Task.FromResult(Volatile.Read(ref running) == 2), "two tasks run");
        QueueStatistics stats = Assert.Single(await host.Queue.GetStatisticsAsync());
        Assert.Equal(2, stats.Leased);
        Assert.Equal(4, stats.Ready);

        release.SetResult();
        await WorkerHost.EventuallyAsync(() => System.Threading.Tasks.Task.FromResult(Volatile.Read(ref finished) == 6), "all six finish");
        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task Heartbeats_KeepALongRunningTaskLeased_SoItRunsOnce()
    {
        int runs = 0;
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(o =>
            {
                WorkerHost.FastTimings(o);
                o.LeaseDuration = TimeSpan.FromSeconds(1);
                o.HeartbeatInterval = TimeSpan.FromMilliseconds(150);
            })
            .AddHandler("slow", async (_, ct) =>
            {
                Interlocked.Increment(ref runs);
                await System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(2.5), ct);
            }));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("slow"));
        await host.WaitForStateAsync(result.TaskId, TaskState.Completed);

        TaskSnapshot task = (await host.Queue.GetAsync(result.TaskId))!;
        Assert.Equal(1, runs);
        Assert.Equal(1, task.Attempts);
        Assert.Equal(1, task.LeaseToken);
    }

    [Fact]
    public async Task Progress_AttachedToAHeartbeat_IsReadByTheNextAttempt()
    {
        var seen = new ConcurrentQueue<string?>();
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("resumable", async (ctx, ct) =>
            {
                seen.Enqueue(ctx.PreviousProgress);
                if (ctx.Attempt == 1)
                {
                    ctx.SetProgress("{\"page\":7}");
                    await ctx.HeartbeatAsync(ct);
                    throw new IOException("connection reset on page 8");
                }
            }));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("resumable"));
        await host.WaitForStateAsync(result.TaskId, TaskState.Completed);

        Assert.Equal(new string?[] { null, "{\"page\":7}" }, seen.ToArray());
    }

    [Fact]
    public async Task Cancel_OfARunningTask_FiresTheHandlerTokenAtTheNextHeartbeat_AndEndsCanceled()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawCancellation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("long", async (_, ct) =>
            {
                started.SetResult();
                try
                {
                    await System.Threading.Tasks.Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    sawCancellation.SetResult();
                    throw;
                }
            }));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("long"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.Equal(CancelResult.CancelRequested, await host.Queue.CancelAsync(result.TaskId));
        await sawCancellation.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        await host.WaitForStateAsync(result.TaskId, TaskState.Canceled);
        Assert.Equal(CancelResult.AlreadyFinished, await host.Queue.CancelAsync(result.TaskId));
    }

    [Fact]
    public async Task Cancel_OfAQueuedTask_MeansItNeverRuns()
    {
        int runs = 0;
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("later", (_, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.CompletedTask;
            }));

        EnqueueResult delayed = await host.Queue.EnqueueAsync(new NewTask("later", Encoding.UTF8.GetBytes("x")) { RunAt = TimeProvider.System.GetUtcNow().AddSeconds(1) });
        Assert.Equal(CancelResult.Canceled, await host.Queue.CancelAsync(delayed.TaskId));
        EnqueueResult marker = await host.Queue.EnqueueAsync(new NewTask("later", Encoding.UTF8.GetBytes("y")) { RunAt = TimeProvider.System.GetUtcNow().AddSeconds(1.5) });
        await host.WaitForStateAsync(marker.TaskId, TaskState.Completed);

        Assert.Equal(1, runs);
        Assert.Equal(TaskState.Canceled, (await host.Queue.GetAsync(delayed.TaskId))!.State);
    }

    [Fact]
    public async Task LeaseLost_WhileRunning_FiresTheHandlerToken_AndTheStaleCompletionIsRefused()
    {
        var started = new TaskCompletionSource<LeasedTask>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerCanceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finishAnyway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("stolen", async (ctx, ct) =>
            {
                ct.Register(() => handlerCanceled.TrySetResult());
                started.SetResult(ctx.Task);
                await finishAnyway.Task; // ignores the token on purpose, then returns "success"
            }));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("stolen"));
        LeasedTask mine = await started.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        // Another worker takes the task over (as after an expired lease): hand it back, claim it elsewhere.
        Assert.True(await host.Store.ReleaseAsync(mine.Id, mine.LeaseToken, CancellationToken.None));
        LeasedTask thief = Assert.Single(await host.Store.ClaimAsync(new ClaimRequest("stolen", "thief", 1, TimeSpan.FromMinutes(5)), CancellationToken.None));
        Assert.True(thief.LeaseToken > mine.LeaseToken);

        await handlerCanceled.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        finishAnyway.SetResult();

        // The stale worker could not complete it: the thief still holds the lease.
        await WorkerHost.EventuallyAsync(async () => (await host.Store.GetAsync(result.TaskId, CancellationToken.None))!.LeasedBy == "thief", "the thief holds the task");
        TaskSnapshot task = (await host.Queue.GetAsync(result.TaskId))!;
        Assert.Equal(TaskState.Leased, task.State);
        Assert.Equal(thief.LeaseToken, task.LeaseToken);
        Assert.False(await host.Store.CompleteAsync(mine.Id, mine.LeaseToken, CancellationToken.None));
        Assert.True(await host.Store.CompleteAsync(thief.Id, thief.LeaseToken, CancellationToken.None));
    }

    [Fact]
    public async Task Timeout_CancelsAnAttemptThatRunsTooLong_AndRetriesIt()
    {
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("bounded", async (ctx, ct) =>
            {
                if (ctx.Attempt == 1)
                {
                    await System.Threading.Tasks.Task.Delay(Timeout.Infinite, ct);
                }
            }, o => o.Timeout = TimeSpan.FromMilliseconds(300)));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("bounded"));
        await host.WaitForStateAsync(result.TaskId, TaskState.Completed);

        TaskSnapshot task = (await host.Queue.GetAsync(result.TaskId))!;
        Assert.Equal(2, task.Attempts);
        Assert.Contains("TimeoutException", task.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HungHandler_IgnoringItsToken_StopsBeingHeartbeated_SoTheSweeperGivesTheTaskToAnotherAttempt()
    {
        var attempts = new ConcurrentQueue<int>();
        var never = new TaskCompletionSource();
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(o =>
            {
                WorkerHost.FastTimings(o);
                o.LeaseDuration = TimeSpan.FromSeconds(1);
            })
            .AddHandler("hangs", async (ctx, _) =>
            {
                attempts.Enqueue(ctx.Attempt);
                if (ctx.Attempt == 1)
                {
                    await never.Task; // hangs and ignores cancellation
                }
            }, o =>
            {
                o.Timeout = TimeSpan.FromMilliseconds(200);
                o.Concurrency = 2;
            }));

        EnqueueResult result = await host.Queue.EnqueueAsync(Task("hangs"));
        await host.WaitForStateAsync(result.TaskId, TaskState.Completed);

        TaskSnapshot task = (await host.Queue.GetAsync(result.TaskId))!;
        Assert.Equal([1, 2], attempts.ToArray());
        Assert.StartsWith("LeaseExpired", task.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GracefulShutdown_WaitsForHandlersThatFinishInTime()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("finishing", async (_, _) =>
            {
                started.SetResult();
                await System.Threading.Tasks.Task.Delay(300, CancellationToken.None);
            }));
        await using (host)
        {
            EnqueueResult result = await host.Queue.EnqueueAsync(Task("finishing"));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            await host.StopAsync();

            Assert.Equal(TaskState.Completed, (await host.Store.GetAsync(result.TaskId, CancellationToken.None))!.State);
        }
    }

    [Fact]
    public async Task GracefulShutdown_HandsBackTasksStillRunningAfterTheTimeout_WithoutUsingAnAttempt()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(o =>
            {
                WorkerHost.FastTimings(o);
                o.ShutdownTimeout = TimeSpan.FromMilliseconds(200);
            })
            .AddHandler("endless", async (_, ct) =>
            {
                started.TrySetResult();
                await System.Threading.Tasks.Task.Delay(Timeout.Infinite, ct);
            }));
        await using (host)
        {
            EnqueueResult result = await host.Queue.EnqueueAsync(Task("endless"));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            await host.StopAsync();

            TaskSnapshot task = (await host.Store.GetAsync(result.TaskId, CancellationToken.None))!;
            Assert.Equal(TaskState.Queued, task.State);
            Assert.Equal(0, task.Attempts);
            Assert.Null(task.LastError);
        }
    }

    [Fact]
    public async Task TaskForAQueueWithoutHandler_StaysQueuedAndVisibleInStatistics()
    {
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("known", (_, _) => ValueTask.CompletedTask));

        EnqueueResult orphan = await host.Queue.EnqueueAsync(Task("nobody-handles-this"));
        EnqueueResult known = await host.Queue.EnqueueAsync(Task("known"));
        await host.WaitForStateAsync(known.TaskId, TaskState.Completed);

        Assert.Equal(TaskState.Queued, (await host.Queue.GetAsync(orphan.TaskId))!.State);
        QueueStatistics orphanStats = Assert.Single(await host.Queue.GetStatisticsAsync(), s => s.Queue == "nobody-handles-this");
        Assert.Equal(1, orphanStats.Ready);
    }

    [Fact]
    public async Task Sweeper_ReturnsTheTaskOfADeadWorker_AndThisWorkerFinishesIt()
    {
        var store = new InMemoryTaskStore();
        var client = new TaskQueueClient(store);
        EnqueueResult result = await client.EnqueueAsync(Task("orphaned"));
        // A worker that claims with a short lease and then dies (never heartbeats, never completes).
        LeasedTask dead = Assert.Single(await store.ClaimAsync(new ClaimRequest("orphaned", "dead-worker", 1, TimeSpan.FromMilliseconds(300)), CancellationToken.None));

        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings)
            .UseStore(_ => store)
            .AddHandler("orphaned", (_, _) => ValueTask.CompletedTask));
        await host.WaitForStateAsync(result.TaskId, TaskState.Completed);

        TaskSnapshot task = (await host.Queue.GetAsync(result.TaskId))!;
        Assert.Equal(2, task.Attempts);
        Assert.True(task.LeaseToken > dead.LeaseToken);
        Assert.False(await store.CompleteAsync(dead.Id, dead.LeaseToken, CancellationToken.None));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    public sealed record Pizza(string Topping, int Size);

    public sealed class PizzaHandler : TaskHandler<Pizza>
    {
        protected override ValueTask HandleAsync(Pizza payload, TaskContext context, CancellationToken cancellationToken) =>
            payload.Topping.Length > 0 ? ValueTask.CompletedTask : throw new InvalidOperationException("no topping");
    }
}
