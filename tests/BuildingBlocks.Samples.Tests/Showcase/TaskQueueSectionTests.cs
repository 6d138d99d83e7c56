using System.Globalization;
using System.Text.RegularExpressions;
using Showcase.Sections;

namespace BuildingBlocks.Samples.Tests.Showcase;

/// <summary>Runs the task queue section once and checks what it printed.</summary>
public sealed class TaskQueueSectionRun : IAsyncLifetime
{
    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        await new TaskQueueSection().RunAsync(writer, TestContext.Current.CancellationToken);
        Output = writer.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class TaskQueueSectionTests(TaskQueueSectionRun run) : IClassFixture<TaskQueueSectionRun>
{
    [Fact]
    public void RunAsync_UniqueKeyEnqueuedTwice_ReturnsTheSameTaskAndCreatesItOnce()
    {
        Match match = Regex.Match(run.Output, @"enqueued twice with unique key ""[^""]+"": task (\d+) \(created: True\), then task (\d+) \(created: False\)");
        Assert.True(match.Success, run.Output);
        Assert.Equal(match.Groups[1].Value, match.Groups[2].Value);
        Assert.Matches(new Regex($@"^\s+{match.Groups[1].Value} \| issue-invoice\s+\|\s+1 \| .*; completed\s*$", RegexOptions.Multiline), run.Output);
    }

    [Fact]
    public void RunAsync_DelayedTask_DoesNotStartBeforeItsRunAtTime()
    {
        Match match = Regex.Match(run.Output, @"send-reminder\s+\|\s+1 \| delayed (\d+) s: started ([\d.]+) s after enqueue; completed");
        Assert.True(match.Success, run.Output);
        double delay = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        double started = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);

        // A lower bound only: the store must not hand the task out early (started is rounded to 0.01 s).
        Assert.True(started >= delay - 0.01, $"the delayed task started after {started} s, before its {delay} s delay");
    }

    [Fact]
    public void RunAsync_FlakyTask_IsRetriedUntilItSucceeds()
    {
        Assert.Matches(new Regex(@"sync-crm\s+\|\s+3 \| 2 x failed \(CRM timed out\), ok: 2 retries with backoff; completed on attempt 3", RegexOptions.Multiline), run.Output);
    }

    [Fact]
    public void RunAsync_FailingTask_IsDeadLetteredThenRedrivenAndCompleted()
    {
        Assert.Contains("charge-card is a dead letter after 2 attempts (last error:", run.Output, StringComparison.Ordinal);
        Assert.Contains("card gateway unavailable", run.Output, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"from the dead letters: queued again\.", RegexOptions.Multiline), run.Output);
        Assert.Matches(new Regex(@"charge-card\s+\|\s+3 \| 2 x failed \(card gateway unavailable\): dead letter; redriven: ok; completed", RegexOptions.Multiline), run.Output);
    }

    [Fact]
    public void RunAsync_FinalStatistics_CountEveryTaskCompletedAndNothingLeft()
    {
        Assert.Matches(new Regex(@"^\s+jobs\s+\|\s+0 \|\s+0 \|\s+0 \|\s+5 \|\s+0 \|\s+0\s*$", RegexOptions.Multiline), run.Output);
        Assert.Equal(5, Regex.Count(run.Output, @"^\s+\d+ \| [a-z-]+\s+\|\s+\d+ \| .*completed", RegexOptions.Multiline));
    }
}
