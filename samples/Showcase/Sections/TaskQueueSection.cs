using System.Collections.Concurrent;
using System.Globalization;
using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Showcase.Rendering;

namespace Showcase.Sections;

/// <summary>The task queue: delayed work, unique keys, retries with backoff, dead letters and redrive, on a SQLite file.</summary>
internal sealed class TaskQueueSection : IShowcaseSection
{
    private const string Queue = "jobs";
    private static readonly TimeSpan s_reminderDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public string Title => "BuildingBlocks.TaskQueue: background jobs in a SQLite file, with retries and dead letters";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"bb-showcase-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            await RunInAsync(Path.Combine(directory, "tasks.db"), output, cancellationToken);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task RunInAsync(string database, TextWriter output, CancellationToken cancellationToken)
    {
        var jobs = new Jobs(TimeProvider.System);

        // Registered the way an app would: the queue, its durable store, one handler; the hosted worker runs it.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddTaskQueue(o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(100);
                o.DefaultMaxAttempts = 5;
            })
            .UseSqlite(database)
            .AddHandler(Queue, jobs.RunAsync, q => q.Concurrency = 4);
        using IHost host = builder.Build();
        await host.StartAsync(cancellationToken);
        ITaskQueue queue = host.Services.GetRequiredService<ITaskQueue>();

        output.WriteLine(Invariant($"Queue \"{Queue}\" lives in {database}; a hosted worker runs 4 jobs at a time; retries back off from 100 ms."));
        DateTimeOffset start = TimeProvider.System.GetUtcNow();
        long welcome = (await queue.EnqueueAsync(Queue, new Job("send-welcome-email"), cancellationToken: cancellationToken)).TaskId;
        long reminder = (await queue.EnqueueAsync(Queue, new Job("send-reminder"), new EnqueueOptions { RunAt = start + s_reminderDelay }, cancellationToken)).TaskId;
        var uniqueKey = new EnqueueOptions { UniqueKey = "invoice-2041" };
        EnqueueResult invoice = await queue.EnqueueAsync(Queue, new Job("issue-invoice"), uniqueKey, cancellationToken);
        EnqueueResult invoiceAgain = await queue.EnqueueAsync(Queue, new Job("issue-invoice"), uniqueKey, cancellationToken);
        long crm = (await queue.EnqueueAsync(Queue, new Job("sync-crm"), cancellationToken: cancellationToken)).TaskId;
        long charge = (await queue.EnqueueAsync(Queue, new Job("charge-card"), new EnqueueOptions { MaxAttempts = 2 }, cancellationToken)).TaskId;
        output.WriteLine(Invariant($"issue-invoice enqueued twice with unique key \"{uniqueKey.UniqueKey}\": task {invoice.TaskId} (created: {invoice.Created}), then task {invoiceAgain.TaskId} (created: {invoiceAgain.Created})."));

        // charge-card fails on every attempt while the card gateway is down: after its 2 attempts it is a dead letter.
        TaskSnapshot dead = await WaitForAsync(queue, charge, TaskState.DeadLettered, cancellationToken);
        output.WriteLine(Invariant($"charge-card is a dead letter after {dead.Attempts} attempts (last error: {dead.LastError})."));
        jobs.GatewayUp = true;
        bool redriven = await queue.RedriveAsync(charge, cancellationToken);
        output.WriteLine(Invariant($"The card gateway is back; an operator redrives task {charge} from the dead letters: {(redriven ? "queued again" : "not redriven")}."));

        TaskSnapshot[] done = [
            await WaitForAsync(queue, welcome, TaskState.Completed, cancellationToken),
            await WaitForAsync(queue, reminder, TaskState.Completed, cancellationToken),
            await WaitForAsync(queue, invoice.TaskId, TaskState.Completed, cancellationToken),
            await WaitForAsync(queue, crm, TaskState.Completed, cancellationToken),
            await WaitForAsync(queue, charge, TaskState.Completed, cancellationToken),
        ];
        output.WriteLine();

        var table = new Table("Task", "Job", "Runs", "What happened");
        foreach (TaskSnapshot task in done)
        {
            Run[] runs = jobs.RunsOf(task.Id);
            string job = runs.Length > 0 ? runs[0].Job : "?";
            table.Add(task.Id, job, runs.Length, Describe(task, runs, start));
        }

        table.WriteTo(output);

        output.WriteLine("Queue statistics at the end:");
        var statistics = new Table("Queue", "Ready", "Scheduled", "Leased", "Completed", "Dead letters", "Canceled");
        foreach (QueueStatistics s in await queue.GetStatisticsAsync(cancellationToken))
        {
            statistics.Add(s.Queue, s.Ready, s.Scheduled, s.Leased, s.Completed, s.DeadLettered, s.Canceled);
        }

        statistics.WriteTo(output);
        output.WriteLine("Every task survives a restart of the process: the queue is the SQLite file. See docs/task-queue.md.");
        output.WriteLine("Across machines, swap one line: .UseSqlite(path) becomes .UsePostgreSql(connectionString) (package BuildingBlocks.TaskQueue.PostgreSql);");
        output.WriteLine("handlers, options and this operator API stay the same, and workers wake through LISTEN/NOTIFY.");
        await host.StopAsync(cancellationToken);
    }

    private static string Describe(TaskSnapshot task, Run[] runs, DateTimeOffset start)
    {
        string state = task.State.ToString().ToLowerInvariant();
        static string Runs(IEnumerable<Run> some) => string.Join(", ", some
            .Select(r => r.Error is null ? "ok" : $"failed ({r.Error})")
            .Aggregate(new List<(string Outcome, int Times)>(), (runs, outcome) =>
            {
                if (runs.Count > 0 && runs[^1].Outcome == outcome)
                {
                    runs[^1] = (outcome, runs[^1].Times + 1);
                }
                else
                {
                    runs.Add((outcome, 1));
                }

                return runs;
            })
            .Select(r => r.Times == 1 ? r.Outcome : Invariant($"{r.Times} x {r.Outcome}")));
        return runs.FirstOrDefault()?.Job switch
        {
            "send-reminder" => Invariant($"delayed {s_reminderDelay.TotalSeconds:0} s: started {(runs[0].At - start).TotalSeconds:0.00} s after enqueue; {state}"),
            "issue-invoice" => Invariant($"enqueued twice with one unique key: one task, {runs.Length} run; {state}"),
            "sync-crm" => Invariant($"{Runs(runs)}: {runs.Count(r => r.Error is not null)} retries with backoff; {state} on attempt {task.Attempts}"),
            "charge-card" => Invariant($"{Runs(runs.Where(r => r.Error is not null))}: dead letter; redriven: {Runs(runs.Where(r => r.Error is null))}; {state}"),
            _ => Invariant($"{Runs(runs)}; {state}"),
        };
    }

    private static async Task<TaskSnapshot> WaitForAsync(ITaskQueue queue, long id, TaskState state, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_timeout);
        while (true)
        {
            TaskSnapshot? task = await queue.GetAsync(id, cancellationToken);
            if (task?.State == state)
            {
                return task;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(25), deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Task {id} did not become {state} within {s_timeout.TotalSeconds} s; it is {task?.State.ToString() ?? "missing"}.");
            }
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Job(string Name);

    private sealed record Run(string Job, int Attempt, DateTimeOffset At, string? Error);

    /// <summary>The handler of every job, and the record of each run it made.</summary>
    private sealed class Jobs(TimeProvider time)
    {
        private readonly ConcurrentQueue<(long TaskId, Run Run)> _runs = new();
        private volatile bool _gatewayUp;

        public bool GatewayUp
        {
            get => _gatewayUp;
            set => _gatewayUp = value;
        }

        public Run[] RunsOf(long taskId) => [.. _runs.Where(r => r.TaskId == taskId).Select(r => r.Run)];

        public ValueTask RunAsync(TaskContext context, CancellationToken cancellationToken)
        {
            Job job = context.GetPayload<Job>();
            string? error = job.Name switch
            {
                "sync-crm" when context.Attempt <= 2 => "CRM timed out",
                "charge-card" when !GatewayUp => "card gateway unavailable",
                _ => null,
            };
            _runs.Enqueue((context.TaskId, new Run(job.Name, context.Attempt, time.GetUtcNow(), error)));
            return error is null ? ValueTask.CompletedTask : throw new InvalidOperationException(error);
        }
    }
}
