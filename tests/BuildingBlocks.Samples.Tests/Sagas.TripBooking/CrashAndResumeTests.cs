using System.Text.RegularExpressions;
using BuildingBlocks.Sagas;
using BuildingBlocks.Sagas.Sqlite;
using BuildingBlocks.Testing;
using Microsoft.Data.Sqlite;
using Sagas.TripBooking;
using Sagas.TripBooking.Services;

namespace BuildingBlocks.Samples.Tests.TripBooking;

/// <summary>
/// Runs <c>--crash-after &lt;step&gt;</c> as a real child process, which kills itself (SIGKILL) right after that step's
/// service answered, then <c>--resume</c> as another, and checks the saga file and the services' tables.
/// </summary>
public class CrashAndResumeTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);

    private static string SampleAssembly => typeof(CrashDemo).Assembly.Location;

    [Theory]
    [InlineData("flight", false)]
    [InlineData("hotel", false)]
    [InlineData("email", true)]
    public async Task CrashAfter_ThenResume_FinishesTheTripWithoutRunningCheckpointedStepsOrBookingTwice(string crashStep, bool viaTaskQueue)
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("bb-tripbooking");
        string[] crashArguments = ["--crash-after", crashStep, "--data", directory.Path, .. viaTaskQueue ? new[] { "--via-task-queue" } : []];

        // Run 1: killed by itself right after the step's service answered.
        int killedPid;
        await using (ChildProcess crash = ChildProcess.StartDotnet(SampleAssembly, crashArguments))
        {
            int exitCode = await crash.WaitForExitAsync(s_timeout, cancellationToken);
            Assert.True(exitCode != 0, crash.Describe());
            if (OperatingSystem.IsLinux())
            {
                Assert.Equal(137, exitCode);
            }

            killedPid = crash.Id;
            Assert.Contains(crash.Lines, l => l.StartsWith($"  💥 killing process {killedPid} (SIGKILL) right after the {crashStep} service answered", StringComparison.Ordinal));
        }

        // What the kill left: the step's booking exists in the service's table, the saga has not recorded the step.
        string sagaFile = Path.Combine(directory.Path, TripHost.SagaFileName);
        var services = new TravelDatabase(Path.Combine(directory.Path, TravelDatabase.FileName));
        Assert.Contains(await services.CallsAsync(cancellationToken), c => c.Service == crashStep && c.ProcessId == killedPid);
        SagaRecord? left = await ReadSagaAsync(sagaFile, cancellationToken);
        Assert.Equal(SagaStatus.Running, left?.Status);
        IReadOnlyList<SagaEvent> before = await ReadHistoryAsync(sagaFile, cancellationToken);
        Assert.DoesNotContain(before, e => e.Kind == SagaEventKind.StepCompleted && e.Step == crashStep);

        // Run 2: a new process resumes from the file once the dead coordinator's lease expires.
        int resumedPid;
        await using (ChildProcess resume = ChildProcess.StartDotnet(SampleAssembly, "--resume", "--data", directory.Path))
        {
            int exitCode = await resume.WaitForExitAsync(s_timeout, cancellationToken);
            Assert.True(exitCode == 0, resume.Describe());
            resumedPid = resume.Id;
            Assert.Contains(resume.Lines, l => l.StartsWith("Every promise held:", StringComparison.Ordinal));
            Assert.Contains(resume.Lines, l => l.StartsWith("  ✓ trip-2001 Completed", StringComparison.Ordinal));
        }

        // The saga completed; the steps checkpointed before the kill were written under lease 1, the rest under lease 2.
        Assert.Equal(SagaStatus.Completed, (await ReadSagaAsync(sagaFile, cancellationToken))?.Status);
        IReadOnlyList<SagaEvent> history = await ReadHistoryAsync(sagaFile, cancellationToken);
        Assert.Equal(SagaEventKind.Completed, history[^1].Kind);
        Assert.Equal(2, history[^1].LeaseToken);
        Assert.Equal(2, history.Single(e => e.Kind == SagaEventKind.StepCompleted && e.Step == crashStep).LeaseToken);
        string[] checkpointedBeforeKill = [.. before.Where(e => e.Kind == SagaEventKind.StepCompleted).Select(e => e.Step!)];
        Assert.All(checkpointedBeforeKill, step => Assert.Equal(1, history.Single(e => e.Kind == SagaEventKind.StepCompleted && e.Step == step).LeaseToken));

        IReadOnlyList<ServiceCall> calls = await services.CallsAsync(cancellationToken);
        IReadOnlyList<Booking> bookings = await services.BookingsAsync(cancellationToken);
        foreach (string step in TripSettings.Steps)
        {
            // One live booking per service, every call with the step's one idempotency key.
            Booking booking = Assert.Single(bookings, b => b.Service == step);
            Assert.NotEqual("canceled", booking.Status);
            ServiceCall[] stepCalls = [.. calls.Where(c => c.Service == step)];
            Assert.All(stepCalls, c => Assert.Equal(SagaIdempotencyKey.For(CrashDemo.Trip.TripId, step, SagaDirection.Forward), c.IdempotencyKey));

            // A step checkpointed before the kill did not run again.
            if (checkpointedBeforeKill.Contains(step))
            {
                Assert.DoesNotContain(stepCalls, c => c.ProcessId == resumedPid);
            }
        }

        // The killed step ran again in the new process, and its service handed back what it had done the first time. (With
        // the task queue the new process's worker may also send the queued email, before or after the step runs again.)
        var repeated = new Regex(@"^(returned .+ \(already (booked|sent) under this key\)|task \d+ was queued already under this key)$");
        Assert.Contains(calls, c => c.Service == crashStep && c.ProcessId == resumedPid && repeated.IsMatch(c.Outcome));

        // The flight runs alone before the others start, so any later kill finds it checkpointed: it ran in the killed process only.
        if (crashStep != "flight")
        {
            Assert.Contains("flight", checkpointedBeforeKill);
            Assert.All(calls.Where(c => c.Service == "flight"), c => Assert.Equal(killedPid, c.ProcessId));
        }
    }

    [Fact]
    public async Task Resume_WithoutASagaFile_SaysToCrashFirstAndFails()
    {
        using var directory = new TempDirectory("bb-tripbooking");
        await using ChildProcess resume = ChildProcess.StartDotnet(SampleAssembly, "--resume", "--data", directory.Path);

        int exitCode = await resume.WaitForExitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.Equal(1, exitCode);
        Assert.Contains("No saga file at", resume.StandardError, StringComparison.Ordinal);
        Assert.Contains("run with --crash-after <step> first", resume.StandardError, StringComparison.Ordinal);
    }

    private static async Task<SagaRecord?> ReadSagaAsync(string file, CancellationToken cancellationToken)
    {
        await using var store = new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = file });
        SagaRecord? saga = await store.GetAsync(CrashDemo.Trip.TripId, cancellationToken);
        SqliteConnection.ClearAllPools();
        return saga;
    }

    private static async Task<IReadOnlyList<SagaEvent>> ReadHistoryAsync(string file, CancellationToken cancellationToken)
    {
        await using var store = new SqliteSagaStore(new SqliteSagaStoreOptions { DataSource = file });
        IReadOnlyList<SagaEvent> events = await store.GetEventsAsync(CrashDemo.Trip.TripId, cancellationToken);
        SqliteConnection.ClearAllPools();
        return events;
    }
}
