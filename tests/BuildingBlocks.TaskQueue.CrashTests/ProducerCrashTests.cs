using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using BuildingBlocks.TaskQueue.Sqlite;
using BuildingBlocks.Testing;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>A producer process killed with SIGKILL while it enqueues large batches: each batch is all there or not at all.</summary>
[Collection(CrashTestGroup.Name)]
public partial class ProducerCrashTests
{
    private const int BatchSize = 5_000;
    private const int Kills = 3;
    private static readonly TimeSpan s_batchTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Producer_KilledMidBatch_EachBatchIsAllOrNothing()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var directory = new TempDirectory("bb-crash-producer");
        string database = directory.File("tasks.db");
        HashSet<(int Run, int Batch)> begun = [];
        HashSet<(int Run, int Batch)> committed = [];
        int inFlightAtKill = 0;

        // Every run reopens the file the previous kill left behind (SQLite recovers its write-ahead log), and is killed
        // once it announces the batch after its run-th committed one: at once, 10 ms or 20 ms later, so the kills land at
        // different points of EnqueueBatchAsync (before, inside or after the transaction).
        for (int run = 1; run <= Kills; run++)
        {
            await using ChildProcess producer = CrashHost.StartProducer(database, batches: 1_000, BatchSize, run);
            string killOn = string.Create(CultureInfo.InvariantCulture, $"BATCH {run + 1} BEGIN");
            await producer.WaitForLineAsync(line => line == killOn, s_batchTimeout, cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds((run - 1) * 10), cancellationToken);
            producer.Kill();
            int exitCode = await producer.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            Assert.True(exitCode != 0, $"the producer was killed but exited with 0.{Environment.NewLine}{producer.Describe()}");

            int runCommitted = 0;
            int lastBegun = 0;
            foreach (string line in producer.Lines)
            {
                Match match = BatchLine().Match(line);
                if (!match.Success)
                {
                    continue;
                }

                int batch = int.Parse(match.Groups["batch"].Value, CultureInfo.InvariantCulture);
                if (match.Groups["event"].Value == "BEGIN")
                {
                    begun.Add((run, batch));
                    lastBegun = Math.Max(lastBegun, batch);
                }
                else
                {
                    committed.Add((run, batch));
                    runCommitted++;
                }
            }

            Assert.True(runCommitted >= run, producer.Describe());
            inFlightAtKill += committed.Contains((run, lastBegun)) ? 0 : 1;
        }

        await using var store = new SqliteTaskStore(new SqliteTaskStoreOptions { DataSource = database });
        var client = new TaskQueueClient(store);
        Dictionary<(int Run, int Batch), HashSet<int>> stored = await ReadBatchesAsync(client, cancellationToken);

        // Every batch present is complete, every batch reported committed is present, nothing appears that was never begun.
        foreach (((int run, int batch), HashSet<int> indexes) in stored)
        {
            Assert.True(indexes.Count == BatchSize, $"run {run} batch {batch} has {indexes.Count} of {BatchSize} tasks: a batch was stored in part");
            Assert.Contains((run, batch), begun);
        }

        Assert.All(committed, key => Assert.True(stored.ContainsKey(key), $"run {key.Run} batch {key.Batch} was reported committed but is missing"));
        long total = stored.Values.Sum(s => (long)s.Count);
        QueueStatistics statistics = Assert.Single(await client.GetStatisticsAsync(cancellationToken));
        Assert.Equal(total, statistics.Ready);

        // The store still takes work after the kills.
        EnqueueResult after = await client.EnqueueAsync(new NewTask(CrashHost.ProducerQueue, "{}"u8.ToArray()), cancellationToken);
        Assert.True(after.Created);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Kills} kills, {inFlightAtKill} with a batch in flight; {committed.Count} batches reported committed, {stored.Count} stored whole ({total:N0} tasks); {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task<Dictionary<(int Run, int Batch), HashSet<int>>> ReadBatchesAsync(TaskQueueClient client, CancellationToken cancellationToken)
    {
        var batches = new Dictionary<(int Run, int Batch), HashSet<int>>();
        long afterId = 0;
        while (true)
        {
            IReadOnlyList<TaskSnapshot> page = await client.ListAsync(new TaskQuery { Queue = CrashHost.ProducerQueue, AfterId = afterId, Limit = 10_000 }, cancellationToken);
            if (page.Count == 0)
            {
                return batches;
            }

            foreach (TaskSnapshot task in page)
            {
                using JsonDocument payload = JsonDocument.Parse(task.Payload);
                JsonElement root = payload.RootElement;
                (int, int) key = (root.GetProperty("run").GetInt32(), root.GetProperty("batch").GetInt32());
                if (!batches.TryGetValue(key, out HashSet<int>? indexes))
                {
                    batches[key] = indexes = [];
                }

                Assert.True(indexes.Add(root.GetProperty("index").GetInt32()), $"task {task.Id} duplicates an index of run {key.Item1} batch {key.Item2}");
            }

            afterId = page[^1].Id;
        }
    }

    [GeneratedRegex(@"^BATCH (?<batch>\d+) (?<event>BEGIN|COMMITTED)$")]
    private static partial Regex BatchLine();
}
