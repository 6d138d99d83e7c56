using System.Diagnostics;
using Hangfire;
using Hangfire.Common;
using Hangfire.InMemory;
using Hangfire.States;
using Hangfire.Storage;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>
/// The peer the TaskQueue benchmarks compare against: Hangfire 1.8 with its in-memory storage (Hangfire.InMemory), the
/// storage Hangfire recommends for a single process. Jobs are static methods of <see cref="HangfireJobs"/>; the
/// <see cref="Job"/> is built once, so enqueueing pays for Hangfire's client pipeline, not for expression parsing.
/// </summary>
internal static class HangfireFixture
{
    public static readonly Job NoOpJob = Job.FromExpression(() => HangfireJobs.NoOp());

    public static readonly Job CountJob = Job.FromExpression(() => HangfireJobs.Count());

    public static readonly Job SignalStartJob = Job.FromExpression(() => HangfireJobs.SignalStart());

    public static InMemoryStorage CreateStorage() => new(new InMemoryStorageOptions());

    /// <summary>
    /// A server with <see cref="TaskQueueFixture.Concurrency"/> workers (Hangfire's default count) and its polling
    /// intervals shortened: Hangfire.InMemory wakes a waiting worker when a job is enqueued, so queue polling does not
    /// delay pickup; the schedule poll only moves delayed jobs and is set to 1 s instead of 15 s.
    /// </summary>
    public static BackgroundJobServer StartServer(JobStorage storage) => new(
        new BackgroundJobServerOptions
        {
            WorkerCount = TaskQueueFixture.Concurrency,
            SchedulePollingInterval = TimeSpan.FromSeconds(1),
            ServerCheckInterval = TimeSpan.FromSeconds(5),
            HeartbeatInterval = TimeSpan.FromSeconds(5),
            CancellationCheckInterval = TimeSpan.FromSeconds(5),
        },
        storage);

    public static void StopServer(BackgroundJobServer? server)
    {
        if (server is null)
        {
            return;
        }

        server.SendStop();
        server.Dispose();
    }

    public static string Enqueue(BackgroundJobClient client, Job job) => client.Create(job, new EnqueuedState());

    /// <summary>Waits until a job's state is Succeeded (the worker has finished with it).</summary>
    public static void WaitUntilSucceeded(JobStorage storage, string jobId)
    {
        using IStorageConnection connection = storage.GetConnection();
        var spin = new SpinWait();
        while (connection.GetJobData(jobId)?.State != SucceededState.StateName)
        {
            spin.SpinOnce(sleep1Threshold: 20);
        }
    }
}

/// <summary>Hangfire job methods (public and static, as Hangfire requires) and the signals they set.</summary>
public static class HangfireJobs
{
    private static int s_count;
    private static int s_target;
    private static TaskCompletionSource s_done = new();
    private static TaskCompletionSource<long> s_started = new();

    public static void NoOp()
    {
    }

    /// <summary>Counts runs; completes the task returned by <see cref="ExpectRuns"/> at the target.</summary>
    public static void Count()
    {
        if (Interlocked.Increment(ref s_count) == Volatile.Read(ref s_target))
        {
            Volatile.Read(ref s_done).TrySetResult();
        }
    }

    /// <summary>Reports the timestamp at which the job started to the task returned by <see cref="ExpectStart"/>.</summary>
    public static void SignalStart() => Volatile.Read(ref s_started).TrySetResult(Stopwatch.GetTimestamp());

    internal static Task ExpectRuns(int target)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref s_done, done);
        Volatile.Write(ref s_count, 0);
        Volatile.Write(ref s_target, target);
        return done.Task;
    }

    internal static Task<long> ExpectStart()
    {
        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref s_started, started);
        return started.Task;
    }
}
