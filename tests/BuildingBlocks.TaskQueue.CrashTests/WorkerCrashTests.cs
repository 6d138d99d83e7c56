using System.Diagnostics;
using System.Globalization;
using System.Text;
using BuildingBlocks.TaskQueue.Sqlite;
using BuildingBlocks.Testing;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>A worker process killed with SIGKILL while it holds leases: the survivor must finish everything, once.</summary>
[Collection(CrashTestGroup.Name)]
public class WorkerCrashTests
{
    private const int TaskCount = 40;
    private const string WorkerA = "worker-a";
    private const string WorkerB = "worker-b";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Worker_KilledWhileHoldingTasks_AnotherWorkerFinishesEveryTaskExactlyOnce()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var directory = new TempDirectory("bb-crash-worker");
        string database = directory.File("tasks.db");
        string ledgerA = directory.File(WorkerA + ".ledger");
        string ledgerB = directory.File(WorkerB + ".ledger");
        await using var store = new SqliteTaskStore(new SqliteTaskStoreOptions { DataSource = database });
        var client = new TaskQueueClient(store);

        NewTask[] tasks = [.. Enumerable.Range(0, TaskCount).Select(i => new NewTask(CrashHost.WorkerQueue, Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture))))];
        IReadOnlyList<EnqueueResult> enqueued = await client.EnqueueBatchAsync(tasks, cancellationToken);
        long[] ids = [.. enqueued.Select(r => r.TaskId)];
        Assert.Equal(TaskCount, ids.Distinct().Count());

        // Worker A takes 4 tasks and works on each for 10 minutes: it is holding them (and heartbeating) when it dies.
        IReadOnlyList<LedgerEntry> startedByA;
        await using (ChildProcess a = CrashHost.StartWorker(database, WorkerA, ledgerA, concurrency: 4, hold: TimeSpan.FromMinutes(10), lease: TimeSpan.FromSeconds(2)))
        {
            await a.WaitForOutputAsync(lines => lines.Count(l => l.StartsWith("STARTED ", StringComparison.Ordinal)) >= 2, s_startTimeout, cancellationToken);
            a.Kill();
            int exitCode = await a.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            Assert.True(exitCode != 0, $"worker A was killed but exited with 0.{Environment.NewLine}{a.Describe()}");
            startedByA = [.. LedgerEntry.ReadAll(ledgerA).Where(e => e.Kind == LedgerEntry.Start)];
            Assert.True(startedByA.Count >= 2, a.Describe());
            Assert.DoesNotContain(LedgerEntry.ReadAll(ledgerA), e => e.Kind == LedgerEntry.Finish);
        }

        // Nobody is alive to sweep: what A held is still recorded as A's, with the tokens its handlers saw.
        Dictionary<long, TaskSnapshot> atKill = await ReadAllAsync(client, cancellationToken);
        long[] heldByA = [.. atKill.Values.Where(t => t.State == TaskState.Leased).Select(t => t.Id).Order()];
        Assert.All(atKill.Values.Where(t => t.State == TaskState.Leased), t => Assert.Equal(WorkerA, t.LeasedBy));
        foreach (LedgerEntry start in startedByA)
        {
            TaskSnapshot task = atKill[start.TaskId];
            Assert.Equal(WorkerA, task.LeasedBy);
            Assert.True(task.LeaseToken >= start.LeaseToken, $"task {start.TaskId}: stored token {task.LeaseToken} < A's {start.LeaseToken}");
        }

        Assert.InRange(heldByA.Length, startedByA.Select(e => e.TaskId).Distinct().Count(), 4);

        // Worker B: a long lease of its own (nothing it runs should expire under load), short work; it must sweep A's
        // expired leases and finish all 40 tasks.
        await using (ChildProcess b = CrashHost.StartWorker(database, WorkerB, ledgerB, concurrency: 8, hold: TimeSpan.FromMilliseconds(20), lease: TimeSpan.FromSeconds(30)))
        {
            await WaitUntilAllCompletedAsync(client, b, cancellationToken);
        }

        Dictionary<long, TaskSnapshot> final = await ReadAllAsync(client, cancellationToken);
        IReadOnlyList<LedgerEntry> ledger = [.. LedgerEntry.ReadAll(ledgerA), .. LedgerEntry.ReadAll(ledgerB)];
        Dictionary<long, LedgerEntry[]> finishes = ledger.Where(e => e.Kind == LedgerEntry.Finish).GroupBy(e => e.TaskId).ToDictionary(g => g.Key, g => g.ToArray());

        // Nothing lost: every task is completed, by B, and its work finished exactly once, by the lease that completed it.
        Assert.Equal(ids.Order(), final.Keys.Order());
        foreach (long id in ids)
        {
            TaskSnapshot task = final[id];
            Assert.Equal(TaskState.Completed, task.State);
            Assert.Equal(WorkerB, task.LeasedBy);
            Assert.True(finishes.TryGetValue(id, out LedgerEntry[]? finished), $"task {id} has no FINISH line");
            LedgerEntry finish = Assert.Single(finished);
            Assert.Equal(WorkerB, finish.Worker);
            Assert.Equal(task.LeaseToken, finish.LeaseToken);
            Assert.Equal(heldByA.Contains(id) ? 2 : 1, task.Attempts);
        }

        // What A held went to B under a newer lease, and A's stale lease can no longer touch it.
        foreach (LedgerEntry start in startedByA)
        {
            TaskSnapshot task = final[start.TaskId];
            Assert.True(task.LeaseToken > start.LeaseToken, $"task {start.TaskId}: B's token {task.LeaseToken} is not above A's {start.LeaseToken}");
            Assert.False(await store.CompleteAsync(start.TaskId, start.LeaseToken, cancellationToken), $"a stale completion of task {start.TaskId} was accepted");
            Assert.Equal(LeaseStatus.Lost, await store.HeartbeatAsync(start.TaskId, start.LeaseToken, TimeSpan.FromSeconds(30), "stale", cancellationToken));
            Assert.False(await store.FailAsync(start.TaskId, start.LeaseToken, new TaskFailure("stale", RetryAt: null), cancellationToken));
            TaskSnapshot after = (await store.GetAsync(start.TaskId, cancellationToken))!;
            Assert.Equal(TaskState.Completed, after.State);
            Assert.Equal(task.LeaseToken, after.LeaseToken);
            Assert.Equal(task.FinishedAt, after.FinishedAt);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"A held {heldByA.Length} task(s) ({startedByA.Count} logged) when killed; B finished all {TaskCount}; {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task WaitUntilAllCompletedAsync(TaskQueueClient client, ChildProcess worker, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            IReadOnlyList<QueueStatistics> statistics = await client.GetStatisticsAsync(cancellationToken);
            QueueStatistics? queue = statistics.SingleOrDefault(s => s.Queue == CrashHost.WorkerQueue);
            if (queue?.Completed == TaskCount)
            {
                return;
            }

            Assert.False(worker.HasExited, $"worker B exited before finishing.{Environment.NewLine}{worker.Describe()}");
            Assert.True(
                deadline.Elapsed < s_drainTimeout,
                $"After {s_drainTimeout.TotalSeconds} s only {queue?.Completed ?? 0} of {TaskCount} tasks completed (ready {queue?.Ready}, leased {queue?.Leased}, expired {queue?.ExpiredLeases}, dead {queue?.DeadLettered}).{Environment.NewLine}{worker.Describe()}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    private static async Task<Dictionary<long, TaskSnapshot>> ReadAllAsync(TaskQueueClient client, CancellationToken cancellationToken)
    {
        IReadOnlyList<TaskSnapshot> tasks = await client.ListAsync(new TaskQuery { Queue = CrashHost.WorkerQueue, Limit = 1000, IncludePayload = false }, cancellationToken);
        return tasks.ToDictionary(t => t.Id);
    }
}
