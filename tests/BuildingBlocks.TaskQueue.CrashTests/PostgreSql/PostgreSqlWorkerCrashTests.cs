using System.Diagnostics;
using System.Globalization;
using System.Text;
using BuildingBlocks.TaskQueue.PostgreSql;
using BuildingBlocks.Testing;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>
/// Three worker processes share one PostgreSQL schema; one is killed with SIGKILL mid-task. The two survivors must take
/// over what it held, under newer leases, and every task's work must count exactly once.
/// </summary>
[Collection(CrashTestGroup.Name)]
public sealed class PostgreSqlWorkerCrashTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    private const int TaskCount = 60;
    private const int Concurrency = 4;
    private const string Victim = "worker-1";
    private static readonly string[] s_survivors = ["worker-2", "worker-3"];

    // Each task takes 300 ms, so the three workers (12 slots) share the 60 tasks over about 1.5 s and the victim is
    // holding tasks when it dies. The victim's leases last 2 s (heartbeated every 500 ms), so its tasks come back within
    // seconds. The survivors' own leases last 30 s: on a loaded machine a 2 s lease of theirs could expire between two
    // late heartbeats and its task would run twice, legitimately (at least once) but not what this test is about.
    private static readonly TimeSpan s_hold = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan s_victimLease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_survivorLease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Worker_KilledMidTask_SurvivorsTakeOverUnderNewerLeasesAndEveryTaskCountsOnce()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var directory = new TempDirectory("bb-crash-pg-worker");
        string connectionString = await postgres.CreateDatabaseAsync(cancellationToken: cancellationToken);
        string schema = PostgreSqlCrashHost.NewSchema();
        string[] names = [Victim, .. s_survivors];
        Dictionary<string, string> ledgers = names.ToDictionary(n => n, n => directory.File(n + ".ledger"));

        // The three start at once and race to create the schema (the store migrates under an advisory lock).
        await using ChildProcess victim = PostgreSqlCrashHost.StartWorker(connectionString, schema, Victim, ledgers[Victim], Concurrency, s_hold, s_victimLease);
        await using ChildProcess survivor2 = PostgreSqlCrashHost.StartWorker(connectionString, schema, s_survivors[0], ledgers[s_survivors[0]], Concurrency, s_hold, s_survivorLease);
        await using ChildProcess survivor3 = PostgreSqlCrashHost.StartWorker(connectionString, schema, s_survivors[1], ledgers[s_survivors[1]], Concurrency, s_hold, s_survivorLease);
        ChildProcess[] survivors = [survivor2, survivor3];
        foreach (ChildProcess worker in (ChildProcess[])[victim, .. survivors])
        {
            await worker.WaitForLineAsync(line => line == "READY", s_startTimeout, cancellationToken);
        }

        await using var store = new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = connectionString, Schema = schema });
        var client = new TaskQueueClient(store);
        NewTask[] tasks = [.. Enumerable.Range(0, TaskCount).Select(i => new NewTask(CrashHost.WorkerQueue, Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture))))];
        long[] ids = [.. (await client.EnqueueBatchAsync(tasks, cancellationToken)).Select(r => r.TaskId)];
        Assert.Equal(TaskCount, ids.Distinct().Count());

        // The victim dies as soon as it reports a started task: its handlers are mid-work, its leases live.
        await victim.WaitForLineAsync(line => line.StartsWith("STARTED ", StringComparison.Ordinal), s_startTimeout, cancellationToken);
        victim.Kill();
        int exitCode = await victim.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        Assert.True(exitCode != 0, $"{Victim} was killed but exited with 0.{Environment.NewLine}{victim.Describe()}");

        // What it held: its leases were heartbeated at most 500 ms ago and last 2 s, so normally the survivors have not
        // swept them yet (the ledger and the sweeper's error cover the ones that expired early on a loaded machine).
        Dictionary<long, TaskSnapshot> atKill = await PostgreSqlCrashHost.ReadAllAsync(client, CrashHost.WorkerQueue, cancellationToken);
        Dictionary<long, long> heldByVictim = atKill.Values
            .Where(t => t.State == TaskState.Leased && t.LeasedBy == Victim)
            .ToDictionary(t => t.Id, t => t.LeaseToken);
        Assert.True(heldByVictim.Count <= Concurrency, $"{Victim} held {heldByVictim.Count} leases with {Concurrency} slots.");

        await WaitUntilAllCompletedAsync(client, survivors, cancellationToken);
        foreach (ChildProcess survivor in survivors)
        {
            // Kill the survivors before reading their ledgers, so no line can still be on its way.
            survivor.Kill();
            await survivor.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }

        Dictionary<long, TaskSnapshot> final = await PostgreSqlCrashHost.ReadAllAsync(client, CrashHost.WorkerQueue, cancellationToken);
        Dictionary<string, IReadOnlyList<LedgerEntry>> ledger = names.ToDictionary(n => n, n => LedgerEntry.ReadAll(ledgers[n]));
        ILookup<long, LedgerEntry> finishes = ledger.Values.SelectMany(l => l).Where(e => e.Kind == LedgerEntry.Finish).ToLookup(e => e.TaskId);

        // The tasks the victim leased and did not complete: those it held at the kill, those it started (its ledger), and
        // any whose lease the sweeper took back from it (on a loaded machine a victim's lease can expire before the kill).
        Dictionary<long, long> lostByVictim = new(heldByVictim);
        foreach (LedgerEntry start in ledger[Victim].Where(e => e.Kind == LedgerEntry.Start))
        {
            if (final[start.TaskId].LeasedBy != Victim || final[start.TaskId].LeaseToken != start.LeaseToken)
            {
                lostByVictim.TryAdd(start.TaskId, start.LeaseToken);
            }
        }

        foreach (TaskSnapshot task in final.Values.Where(t => t.LastError?.Contains($"'{Victim}'", StringComparison.Ordinal) == true))
        {
            lostByVictim.TryAdd(task.Id, task.LeaseToken - 1);
        }

        Assert.True(lostByVictim.Count >= 1, $"{Victim} left no task unfinished: the kill was not mid-task.{Environment.NewLine}{victim.Describe()}");

        string Context(long id) =>
            $"{PostgreSqlCrashHost.Describe(final[id])}; FINISH lines: [{string.Join("; ", finishes[id].Select(f => $"{f.Worker} token {f.LeaseToken}"))}]"
            + (heldByVictim.TryGetValue(id, out long token) ? $"; held by {Victim} with token {token} at the kill" : "")
            + (lostByVictim.TryGetValue(id, out long lost) ? $"; leased by {Victim} with token {lost}" : "");

        // Nothing lost; the work of each task counts once: exactly one FINISH line for the lease that completed it, and
        // the survivors finished each task at most once (once for every task they completed, never for the victim's).
        // The victim may have finished a task it did not get to complete: that run does not count.
        Assert.Equal(ids.Order(), final.Keys.Order());
        int victimFinishedButDidNotComplete = 0;
        foreach (long id in ids)
        {
            TaskSnapshot task = final[id];
            Assert.True(task.State == TaskState.Completed, Context(id));
            Assert.True(task.LeasedBy is Victim || s_survivors.Contains(task.LeasedBy), Context(id));
            Assert.True(finishes[id].Count(f => f.Worker == task.LeasedBy && f.LeaseToken == task.LeaseToken) == 1, $"not exactly one FINISH line for the completing lease: {Context(id)}");
            int bySurvivors = finishes[id].Count(f => f.Worker != Victim);
            Assert.True(bySurvivors == (task.LeasedBy == Victim ? 0 : 1), $"the survivors finished the task {bySurvivors} times: {Context(id)}");
            Assert.True(task.Attempts == (lostByVictim.ContainsKey(id) ? 2 : 1), $"unexpected attempt count: {Context(id)}");
            Assert.True(lostByVictim.ContainsKey(id) || task.LastError is null, $"a task the victim never held has an error: {Context(id)}");
            victimFinishedButDidNotComplete += task.LeasedBy != Victim && finishes[id].Any(f => f.Worker == Victim) ? 1 : 0;
        }

        // The victim's leases went to the survivors under newer tokens (the sweeper recorded whose lease expired); the
        // victim's tokens can no longer change anything.
        foreach ((long id, long staleToken) in lostByVictim)
        {
            TaskSnapshot task = final[id];
            Assert.True(s_survivors.Contains(task.LeasedBy), $"not taken over by a survivor: {Context(id)}");
            Assert.True(task.LeaseToken > staleToken, $"the survivor's token is not above the victim's: {Context(id)}");
            Assert.True(task.LastError?.StartsWith($"LeaseExpired: the lease held by worker '{Victim}'", StringComparison.Ordinal) == true, $"the takeover did not record the victim's expired lease: {Context(id)}");

            Assert.False(await store.CompleteAsync(id, staleToken, cancellationToken), $"a stale completion was accepted: {Context(id)}");
            Assert.Equal(LeaseStatus.Lost, await store.HeartbeatAsync(id, staleToken, TimeSpan.FromSeconds(30), "stale", cancellationToken));
            Assert.False(await store.FailAsync(id, staleToken, new TaskFailure("stale", RetryAt: DateTimeOffset.UtcNow), cancellationToken), $"a stale retry was accepted: {Context(id)}");
            Assert.False(await store.FailAsync(id, staleToken, new TaskFailure("stale", RetryAt: null), cancellationToken), $"a stale dead-letter was accepted: {Context(id)}");
            Assert.False(await store.ReleaseAsync(id, staleToken, cancellationToken), $"a stale release was accepted: {Context(id)}");
            Assert.False(await store.AcknowledgeCancelAsync(id, staleToken, cancellationToken), $"a stale cancel acknowledgement was accepted: {Context(id)}");

            TaskSnapshot after = (await store.GetAsync(id, cancellationToken))!;
            Assert.Equal(TaskState.Completed, after.State);
            Assert.Equal(task.LeaseToken, after.LeaseToken);
            Assert.Equal(task.LeasedBy, after.LeasedBy);
            Assert.Equal(task.Attempts, after.Attempts);
            Assert.Equal(task.FinishedAt, after.FinishedAt);
            Assert.Equal(task.LeaseExpiresAt, after.LeaseExpiresAt);
            Assert.Equal(task.LastError, after.LastError);
            Assert.Equal(task.Progress, after.Progress);
        }

        string perWorker = string.Join(", ", names.Select(n => $"{n} {final.Values.Count(t => t.LeasedBy == n)}"));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Victim} held {heldByVictim.Count} lease(s) when killed, {lostByVictim.Count - heldByVictim.Count} more had expired before; {victimFinishedButDidNotComplete} finished but not completed; completed by {perWorker}; {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task WaitUntilAllCompletedAsync(TaskQueueClient client, ChildProcess[] survivors, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            QueueStatistics? queue = (await client.GetStatisticsAsync(cancellationToken)).SingleOrDefault(s => s.Queue == CrashHost.WorkerQueue);
            if (queue?.Completed == TaskCount)
            {
                return;
            }

            foreach (ChildProcess survivor in survivors)
            {
                Assert.False(survivor.HasExited, $"a survivor exited before the tasks were done.{Environment.NewLine}{survivor.Describe()}");
            }

            Assert.True(
                deadline.Elapsed < s_drainTimeout,
                $"After {s_drainTimeout.TotalSeconds} s only {queue?.Completed ?? 0} of {TaskCount} tasks completed (ready {queue?.Ready}, leased {queue?.Leased}, expired {queue?.ExpiredLeases}, dead {queue?.DeadLettered}).{Environment.NewLine}{string.Join(Environment.NewLine, survivors.Select(s => s.Describe()))}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }
}
