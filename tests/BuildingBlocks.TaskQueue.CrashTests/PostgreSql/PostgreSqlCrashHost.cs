using System.Globalization;
using BuildingBlocks.Testing;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>Starts crash-host workers on a PostgreSQL schema (<c>--store postgres</c>) and reads that schema back.</summary>
internal static class PostgreSqlCrashHost
{
    /// <summary>A schema name no other test uses (lower case, as the store requires).</summary>
    public static string NewSchema() => "crash_" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// A worker on queue "crash" in <paramref name="schema"/>: it records START and FINISH lines in <paramref name="ledger"/>
    /// and prints LISTENING / LISTENER LOST as its LISTEN connection comes and goes.
    /// </summary>
    public static ChildProcess StartWorker(string connectionString, string schema, string name, string ledger, int concurrency, TimeSpan hold, TimeSpan lease) =>
        ChildProcess.StartDotnet(
            CrashHost.AssemblyPath,
            "worker",
            name,
            "--store",
            "postgres",
            "--connection-string",
            connectionString,
            "--schema",
            schema,
            "--concurrency",
            Invariant(concurrency),
            "--hold-ms",
            Invariant((long)hold.TotalMilliseconds),
            "--lease-ms",
            Invariant((long)lease.TotalMilliseconds),
            "--ledger",
            ledger,
            "--max-run-s",
            "120");

    /// <summary>Every task of <paramref name="queue"/>, by id (paged, without payloads).</summary>
    public static async Task<Dictionary<long, TaskSnapshot>> ReadAllAsync(TaskQueueClient client, string queue, CancellationToken cancellationToken)
    {
        var tasks = new Dictionary<long, TaskSnapshot>();
        long afterId = 0;
        while (true)
        {
            IReadOnlyList<TaskSnapshot> page = await client.ListAsync(new TaskQuery { Queue = queue, AfterId = afterId, Limit = 1000, IncludePayload = false }, cancellationToken);
            if (page.Count == 0)
            {
                return tasks;
            }

            foreach (TaskSnapshot task in page)
            {
                tasks.Add(task.Id, task);
            }

            afterId = page[^1].Id;
        }
    }

    /// <summary>One line per task for failure messages.</summary>
    public static string Describe(TaskSnapshot task) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"task {task.Id}: {task.State}, attempts {task.Attempts}/{task.MaxAttempts}, token {task.LeaseToken}, leased by {task.LeasedBy ?? "-"}, last error {task.LastError ?? "-"}");

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
