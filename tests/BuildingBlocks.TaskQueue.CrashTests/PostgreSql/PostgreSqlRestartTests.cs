using System.Diagnostics;
using System.Globalization;
using System.Text;
using BuildingBlocks.TaskQueue.PostgreSql;
using BuildingBlocks.Testing;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>
/// The PostgreSQL server goes away for a few seconds (a clean fast shutdown, or SIGKILL to every server process) while
/// two worker processes run and the test enqueues steadily. The workers must ride it out, reconnect and carry on, and
/// every task whose enqueue returned must end completed.
/// </summary>
[Collection(CrashTestGroup.Name)]
public sealed class PostgreSqlRestartTests
{
    private const int Concurrency = 4;
    private const int BatchSize = 5;
    private const int TasksBeforeOutage = 20;
    private const int BatchesAfterOutage = 10;
    private const int FailedAttemptsDuringOutage = 3;
    private static readonly string[] s_workers = ["worker-1", "worker-2"];
    private static readonly TimeSpan s_hold = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_producerPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_enqueueTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    // The listener's reconnect delay doubles while the server is away (1 s, 2 s, 4 s, ... up to 30 s).
    private static readonly TimeSpan s_reconnectTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("stop")]
    [InlineData("kill")]
    public async Task Server_GoesAwayAndComesBack_WorkersReconnectAndEveryAcknowledgedTaskCompletes(string outage)
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var directory = new TempDirectory("bb-crash-pg-restart");

        // A server of its own: this test stops or kills it.
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(cancellationToken);
        string connectionString = await server.CreateDatabaseAsync(cancellationToken: cancellationToken);
        string schema = PostgreSqlCrashHost.NewSchema();
        await using var store = new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = connectionString, Schema = schema });
        var client = new TaskQueueClient(store);
        await store.InitializeAsync(cancellationToken);

        Dictionary<string, string> ledgers = s_workers.ToDictionary(n => n, n => directory.File(n + ".ledger"));
        await using ChildProcess worker1 = PostgreSqlCrashHost.StartWorker(connectionString, schema, s_workers[0], ledgers[s_workers[0]], Concurrency, s_hold, s_lease);
        await using ChildProcess worker2 = PostgreSqlCrashHost.StartWorker(connectionString, schema, s_workers[1], ledgers[s_workers[1]], Concurrency, s_hold, s_lease);
        ChildProcess[] workers = [worker1, worker2];
        foreach (ChildProcess worker in workers)
        {
            await worker.WaitForOutputAsync(lines => lines.Contains("READY") && lines.Contains("LISTENING"), s_startTimeout, cancellationToken);
        }

        using var stopProducing = new CancellationTokenSource();
        var producer = new Producer(client);
        Task producing = producer.RunAsync(stopProducing.Token);
        try
        {
            // Running: the workers have finished some of the produced tasks.
            await WaitAsync(
                () => workers.Sum(w => w.Lines.Count(l => l.StartsWith("FINISHED ", StringComparison.Ordinal))) >= TasksBeforeOutage,
                s_startTimeout,
                $"the workers finishing {TasksBeforeOutage} tasks before the outage",
                workers,
                producer,
                cancellationToken);

            // The outage: enqueues keep being attempted and must fail; the workers must stay up.
            if (outage == "kill")
            {
                await server.KillAsync(cancellationToken);
            }
            else
            {
                await server.StopAsync(cancellationToken);
            }

            long downFrom = Stopwatch.GetTimestamp();
            await WaitAsync(
                () => Stopwatch.GetElapsedTime(downFrom) >= s_outage && producer.Attempts.Count(a => a.StartedAt >= downFrom) >= FailedAttemptsDuringOutage,
                s_startTimeout,
                $"{FailedAttemptsDuringOutage} enqueue attempts during the outage",
                workers,
                producer,
                cancellationToken);
            long downUntil = Stopwatch.GetTimestamp();
            await server.StartAgainAsync(cancellationToken);
            long upFrom = Stopwatch.GetTimestamp();

            // Back: enqueues succeed again, and each worker's listener is back (after LISTENER LOST, a new LISTENING).
            await WaitAsync(
                () => producer.Attempts.Count(a => a.StartedAt >= upFrom && a.Ids is not null) >= BatchesAfterOutage
                    && workers.All(ListenedAgain),
                s_reconnectTimeout,
                $"{BatchesAfterOutage} acknowledged batches after the restart and both listeners back",
                workers,
                producer,
                cancellationToken);
            await stopProducing.CancelAsync();
            await producing;

            // Drained: no task of the queue is left waiting or running (tasks whose enqueue failed may exist too: a
            // commit can succeed just before the connection drops; they must complete like the others).
            QueueStatistics drained = await WaitUntilDrainedAsync(client, workers, producer, cancellationToken);
            Dictionary<long, TaskSnapshot> final = await PostgreSqlCrashHost.ReadAllAsync(client, CrashHost.WorkerQueue, cancellationToken);
            Dictionary<string, IReadOnlyList<LedgerEntry>> ledger = s_workers.ToDictionary(n => n, n => LedgerEntry.ReadAll(ledgers[n]));
            ILookup<long, LedgerEntry> finishes = ledger.Values.SelectMany(l => l).Where(e => e.Kind == LedgerEntry.Finish).ToLookup(e => e.TaskId);

            // The workers rode it out.
            foreach (ChildProcess worker in workers)
            {
                Assert.False(worker.HasExited, $"a worker exited.{Environment.NewLine}{worker.Describe()}");
            }

            // Every enqueue either returned ids or failed with TaskStoreException; those that started after the outage
            // began and ended before the restart began all failed.
            IReadOnlyList<EnqueueAttempt> attempts = producer.Attempts;
            EnqueueAttempt? odd = attempts.FirstOrDefault(a => a.Ids is null && a.Error is not TaskStoreException);
            Assert.True(odd is null, $"an enqueue failed with something other than TaskStoreException: {odd?.Error}");
            EnqueueAttempt[] duringOutage = [.. attempts.Where(a => a.StartedAt >= downFrom && a.EndedAt <= downUntil)];
            Assert.True(duringOutage.Length >= FailedAttemptsDuringOutage, $"only {duringOutage.Length} enqueue attempts fell inside the outage");
            EnqueueAttempt? acknowledgedWhileDown = duringOutage.FirstOrDefault(a => a.Ids is not null);
            Assert.True(acknowledgedWhileDown is null, $"an enqueue returned ids while the server was down ({outage}): batch {acknowledgedWhileDown?.Batch}");

            // Nothing acknowledged is lost: each acknowledged task is there, completed, and the handler run of its
            // completing lease finished its work. (At least one FINISH line for that worker and token, not exactly one:
            // a claim committed with synchronous_commit off can be forgotten by the crash, and the task is then claimed
            // again under the same token; PostgreSqlServerCrashLeaseTests pins that down.)
            long[] acknowledged = [.. attempts.Where(a => a.Ids is not null).SelectMany(a => a.Ids!)];
            Assert.Equal(acknowledged.Length, acknowledged.Distinct().Count());
            foreach (long id in acknowledged)
            {
                Assert.True(final.TryGetValue(id, out TaskSnapshot? task), $"task {id} was acknowledged but is missing");
                Assert.True(task.State == TaskState.Completed, PostgreSqlCrashHost.Describe(task));
                Assert.True(
                    finishes[id].Any(f => f.Worker == task.LeasedBy && f.LeaseToken == task.LeaseToken),
                    $"no FINISH line for the completing lease: {PostgreSqlCrashHost.Describe(task)}; ledger: [{string.Join("; ", ledger.Values.SelectMany(l => l).Where(e => e.TaskId == id))}]");
            }

            // The workers carried on: each finished tasks that were enqueued after the restart.
            HashSet<long> acknowledgedAfter = [.. attempts.Where(a => a.StartedAt >= upFrom && a.Ids is not null).SelectMany(a => a.Ids!)];
            foreach (string name in s_workers)
            {
                int after = ledger[name].Count(e => e.Kind == LedgerEntry.Finish && acknowledgedAfter.Contains(e.TaskId));
                Assert.True(after > 0, $"{name} finished none of the {acknowledgedAfter.Count} tasks enqueued after the restart.{Environment.NewLine}{workers[Array.IndexOf(s_workers, name)].Describe()}");
            }

            int failed = attempts.Count(a => a.Ids is null);
            int failedAfterRestart = attempts.Count(a => a.Ids is null && a.StartedAt >= upFrom);
            int unacknowledgedStored = final.Count - acknowledged.Length;
            int retried = final.Values.Count(t => t.Attempts > 1);
            int sameTokenTwice = ledger.Values.SelectMany(l => l).Where(e => e.Kind == LedgerEntry.Start).GroupBy(e => (e.TaskId, e.LeaseToken)).Count(g => g.Count() > 1);
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{outage}: {attempts.Count} enqueue calls, {attempts.Count - failed} acknowledged ({acknowledged.Length} tasks), {failed} failed " +
                $"({duringOutage.Length} inside the outage, {failedAfterRestart} after the restart); {unacknowledgedStored} unacknowledged task(s) stored anyway; " +
                $"{drained.Completed} completed, {retried} needed more than one attempt, {sameTokenTwice} started twice under one lease token; {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            await stopProducing.CancelAsync();
            await producing;
        }
    }

    /// <summary>After its first LISTENER LOST line, the worker printed LISTENING again.</summary>
    private static bool ListenedAgain(ChildProcess worker)
    {
        IReadOnlyList<string> lines = worker.Lines;
        int lost = lines.ToList().IndexOf("LISTENER LOST");
        return lost >= 0 && lines.Skip(lost + 1).Contains("LISTENING");
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what, ChildProcess[] workers, Producer producer, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            foreach (ChildProcess worker in workers)
            {
                Assert.False(worker.HasExited, $"a worker exited while waiting for {what}.{Environment.NewLine}{worker.Describe()}");
            }

            Assert.True(deadline.Elapsed < timeout, $"Waited {timeout.TotalSeconds} s for {what}. {producer.Summary()}{Environment.NewLine}{string.Join(Environment.NewLine, workers.Select(w => w.Describe()))}");
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    private static async Task<QueueStatistics> WaitUntilDrainedAsync(TaskQueueClient client, ChildProcess[] workers, Producer producer, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            QueueStatistics queue = (await client.GetStatisticsAsync(cancellationToken)).Single(s => s.Queue == CrashHost.WorkerQueue);
            if (queue.Ready + queue.Scheduled + queue.Leased == 0)
            {
                Assert.True(queue.DeadLettered + queue.Canceled == 0, $"{queue.DeadLettered} dead-lettered, {queue.Canceled} canceled");
                return queue;
            }

            foreach (ChildProcess worker in workers)
            {
                Assert.False(worker.HasExited, $"a worker exited before the queue drained.{Environment.NewLine}{worker.Describe()}");
            }

            Assert.True(
                deadline.Elapsed < s_drainTimeout,
                $"After {s_drainTimeout.TotalSeconds} s the queue still has {queue.Ready} ready, {queue.Scheduled} scheduled, {queue.Leased} leased ({queue.ExpiredLeases} expired); {queue.Completed} completed. {producer.Summary()}{Environment.NewLine}{string.Join(Environment.NewLine, workers.Select(w => w.Describe()))}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>One enqueue call: when it started and ended (Stopwatch timestamps), and its ids or its error.</summary>
    private sealed record EnqueueAttempt(int Batch, long StartedAt, long EndedAt, long[]? Ids, Exception? Error);

    /// <summary>Enqueues a batch of <see cref="BatchSize"/> tasks, pauses briefly, and again, until stopped; records every call.</summary>
    private sealed class Producer(TaskQueueClient client)
    {
        private readonly Lock _gate = new();
        private readonly List<EnqueueAttempt> _attempts = [];

        public IReadOnlyList<EnqueueAttempt> Attempts
        {
            get
            {
                lock (_gate)
                {
                    return [.. _attempts];
                }
            }
        }

        public async Task RunAsync(CancellationToken stop)
        {
            for (int batch = 1; !stop.IsCancellationRequested; batch++)
            {
                NewTask[] tasks =
                [
                    .. Enumerable.Range(0, BatchSize).Select(i => new NewTask(
                        CrashHost.WorkerQueue,
                        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"batch":{{batch}},"index":{{i}}}""")))
                    {
                        // Tasks caught by the outage may need a few attempts; none should end in the dead letters.
                        MaxAttempts = 20,
                    }),
                ];
                long started = Stopwatch.GetTimestamp();
                long[]? ids = null;
                Exception? error = null;
                try
                {
                    // Bounded, so a hung call fails the test instead of hanging it; the test never stops a call midway.
                    using var timeout = new CancellationTokenSource(s_enqueueTimeout);
                    ids = [.. (await client.EnqueueBatchAsync(tasks, timeout.Token)).Select(r => r.TaskId)];
                }
                catch (Exception e)
                {
                    error = e;
                }

                lock (_gate)
                {
                    _attempts.Add(new EnqueueAttempt(batch, started, Stopwatch.GetTimestamp(), ids, error));
                }

                try
                {
                    await Task.Delay(s_producerPause, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public string Summary()
        {
            IReadOnlyList<EnqueueAttempt> attempts = Attempts;
            EnqueueAttempt? lastError = attempts.LastOrDefault(a => a.Error is not null);
            return $"Producer: {attempts.Count} enqueue calls, {attempts.Count(a => a.Ids is not null)} acknowledged; last error: {lastError?.Error?.GetType().Name}: {lastError?.Error?.Message}";
        }
    }
}
