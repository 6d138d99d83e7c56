using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace BuildingBlocks.Sagas.Tests.Diagnostics;

public sealed class SagaTelemetryTests
{
    private static Task<SagaTestHost> HostAsync() =>
        SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("charge")
                .Execute(b.Ledger.Fails<TestData>(ctx => ctx.Data.Value switch
                {
                    "decline" => new PermanentStepFailureException("declined"),
                    "flaky" when ctx.Attempt == 1 => new HttpRequestException("503"),
                    _ => null,
                }))
                .WithRetry(2, r => r.InitialDelay = TimeSpan.Zero)
                .Compensate(b.Ledger.Ok<TestData>());
            saga.Step("refund-check")
                .Execute(b.Ledger.Fails<TestData>(ctx => ctx.Data.Value == "stuck" ? new PermanentStepFailureException("no") : null));
            saga.Step("ship").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
        }).Saga("stuck", saga =>
        {
            saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.FailsForGood<TestData>("refund refused"));
            saga.Step("charge").Execute(b.Ledger.FailsForGood<TestData>());
        }));

    private static MetricCollector<T> Collect<T>(SagaTestHost host, string instrument)
        where T : struct =>
        new(host.Services.GetRequiredService<IMeterFactory>(), SagasDiagnostics.MeterName, instrument);

    [Fact]
    public async Task Counters_CountStartedCompletedCompensatedAndParkedSagas_TaggedWithTheSagaName()
    {
        await using SagaTestHost host = await HostAsync();
        using MetricCollector<long> started = Collect<long>(host, SagasDiagnostics.StartedInstrument);
        using MetricCollector<long> completed = Collect<long>(host, SagasDiagnostics.CompletedInstrument);
        using MetricCollector<long> compensated = Collect<long>(host, SagasDiagnostics.CompensatedInstrument);
        using MetricCollector<long> parked = Collect<long>(host, SagasDiagnostics.ParkedInstrument);

        string ok = await host.StartSagaAsync(new TestData { Value = "ok" }, "ok", "order");
        string declined = await host.StartSagaAsync(new TestData { Value = "decline" }, "declined", "order");
        string stuck = await host.StartSagaAsync(sagaId: "stuck", sagaName: "stuck");
        await host.StartSagaAsync(new TestData { Value = "ok" }, "ok", "order"); // idempotent: not counted
        foreach (string id in new[] { ok, declined, stuck })
        {
            await host.WaitForEndAsync(id);
        }

        Assert.Equal(3, started.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(2, started.GetMeasurementSnapshot().Count(m => (string?)m.Tags[SagasDiagnostics.SagaTag] == "order"));
        Assert.Equal("order", Assert.Single(completed.GetMeasurementSnapshot()).Tags[SagasDiagnostics.SagaTag]);
        Assert.Equal("order", Assert.Single(compensated.GetMeasurementSnapshot()).Tags[SagasDiagnostics.SagaTag]);
        CollectedMeasurement<long> park = Assert.Single(parked.GetMeasurementSnapshot());
        Assert.Equal("stuck", park.Tags[SagasDiagnostics.SagaTag]);
        Assert.Equal("compensation_failed", park.Tags[SagasDiagnostics.OutcomeTag]);
        Assert.Equal("{saga}", started.Instrument!.Unit);
    }

    [Fact]
    public async Task Parked_CountsSuspensionsWithTheirOutcome()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.MaxDataBytes = 200)
            .Saga("grow", saga => saga.Step("grow").Execute((ctx, _) =>
            {
                ctx.Data.Blob = new string('x', 300);
                return Task.CompletedTask;
            })));
        using MetricCollector<long> parked = Collect<long>(host, SagasDiagnostics.ParkedInstrument);

        string id = await host.StartSagaAsync();
        Assert.Equal(SagaStatus.Suspended, (await host.WaitForEndAsync(id)).Status);

        Assert.Equal("suspended", Assert.Single(parked.GetMeasurementSnapshot()).Tags[SagasDiagnostics.OutcomeTag]);
    }

    [Fact]
    public async Task StepDuration_IsRecordedPerAttempt_WithDirectionAndOutcome()
    {
        await using SagaTestHost host = await HostAsync();
        using MetricCollector<double> steps = Collect<double>(host, SagasDiagnostics.StepDurationInstrument);
        using MetricCollector<double> checkpoints = Collect<double>(host, SagasDiagnostics.CheckpointDurationInstrument);

        string id = await host.StartSagaAsync(new TestData { Value = "flaky" }, "flaky", "order");
        await host.WaitForEndAsync(id);
        string declined = await host.StartSagaAsync(new TestData { Value = "decline" }, "declined", "order");
        await host.WaitForEndAsync(declined);

        string[] recorded = [.. steps.GetMeasurementSnapshot().Select(m =>
            $"{m.Tags[SagasDiagnostics.StepTag]} {m.Tags[SagasDiagnostics.DirectionTag]} {m.Tags[SagasDiagnostics.OutcomeTag]}")];
        Assert.Equal(
            [
                "reserve forward completed", "charge forward failed", "charge forward completed", "refund-check forward completed", "ship forward completed",
                "reserve forward completed", "charge forward failed", "reserve compensation completed",
            ],
            recorded);
        Assert.All(steps.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0));
        Assert.All(steps.GetMeasurementSnapshot(), m => Assert.Equal("order", m.Tags[SagasDiagnostics.SagaTag]));
        Assert.Equal("s", steps.Instrument!.Unit);
        Assert.NotEmpty(checkpoints.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task StepDuration_SaysTimeoutForATimedOutAttempt()
    {
        TaskCompletionSource never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("hang", saga =>
            saga.Step("charge").Execute((_, _) => never.Task).WithTimeout(TimeSpan.FromMilliseconds(50))));
        using MetricCollector<double> steps = Collect<double>(host, SagasDiagnostics.StepDurationInstrument);

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        Assert.Equal("timeout", Assert.Single(steps.GetMeasurementSnapshot()).Tags[SagasDiagnostics.OutcomeTag]);
        never.TrySetResult();
    }

    [Fact]
    public async Task Spans_CoverTheSagaRunAndEachAttempt_WithTags()
    {
        ConcurrentQueue<Activity> spans = new();
        using ActivityListener listener = new()
        {
            ShouldListenTo = source => source.Name == SagasDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using SagaTestHost host = await HostAsync();
        string id = $"traced-{Guid.NewGuid():N}";

        await host.StartSagaAsync(new TestData { Value = "flaky" }, id, "order");
        await host.WaitForEndAsync(id);
        await Eventually.HoldsAsync(() => spans.Any(s => s.DisplayName == "saga order" && Equals(s.GetTagItem(SagasDiagnostics.SagaIdTag), id)), "the saga span ended");

        Activity[] mine = [.. spans.Where(s => Equals(s.GetTagItem(SagasDiagnostics.SagaIdTag), id))];
        Activity run = Assert.Single(mine, s => s.DisplayName == "saga order");
        Assert.Equal(1, run.GetTagItem(SagasDiagnostics.VersionTag));
        Assert.Equal(1L, run.GetTagItem(SagasDiagnostics.LeaseTokenTag));
        Assert.Equal("Completed", run.GetTagItem(SagasDiagnostics.OutcomeTag));
        Activity[] attempts = [.. mine.Where(s => s != run).OrderBy(s => s.StartTimeUtc)];
        Assert.Equal(["saga step reserve", "saga step charge", "saga step charge", "saga step refund-check", "saga step ship"], attempts.Select(s => s.DisplayName));
        Assert.All(attempts, s => Assert.Same(run, s.Parent));
        Activity failedAttempt = attempts[1];
        Assert.Equal(1, failedAttempt.GetTagItem(SagasDiagnostics.AttemptTag));
        Assert.Equal("failed", failedAttempt.GetTagItem(SagasDiagnostics.OutcomeTag));
        Assert.Equal(ActivityStatusCode.Error, failedAttempt.Status);
        Assert.Equal("forward", failedAttempt.GetTagItem(SagasDiagnostics.DirectionTag));
        Assert.Equal("charge", failedAttempt.GetTagItem(SagasDiagnostics.StepTag));
        Assert.Equal(2, attempts[2].GetTagItem(SagasDiagnostics.AttemptTag));
        Assert.Equal("completed", attempts[2].GetTagItem(SagasDiagnostics.OutcomeTag));
    }

    [Fact]
    public async Task Spans_OfCompensationsAreNamedAfterTheStep()
    {
        ConcurrentQueue<Activity> spans = new();
        using ActivityListener listener = new()
        {
            ShouldListenTo = source => source.Name == SagasDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using SagaTestHost host = await HostAsync();
        string id = $"traced-{Guid.NewGuid():N}";

        await host.StartSagaAsync(new TestData { Value = "decline" }, id, "order");
        await host.WaitForEndAsync(id);
        await Eventually.HoldsAsync(() => spans.Any(s => s.DisplayName == "saga order" && Equals(s.GetTagItem(SagasDiagnostics.SagaIdTag), id)), "the saga span ended");

        Activity[] mine = [.. spans.Where(s => Equals(s.GetTagItem(SagasDiagnostics.SagaIdTag), id))];
        Activity undo = Assert.Single(mine, s => s.DisplayName == "saga compensate reserve");
        Assert.Equal("compensation", undo.GetTagItem(SagasDiagnostics.DirectionTag));
        Assert.Equal("Compensated", Assert.Single(mine, s => s.DisplayName == "saga order").GetTagItem(SagasDiagnostics.OutcomeTag));
    }

    [Fact]
    public async Task Logs_StepFailedAndCompensationFailed_CarryTheirEventIdsLevelsAndErrors()
    {
        await using SagaTestHost host = await HostAsync();

        string stuck = await host.StartSagaAsync(sagaId: "stuck", sagaName: "stuck");
        await host.WaitForEndAsync(stuck);

        Microsoft.Extensions.Logging.Testing.FakeLogRecord[] logs = host.Logs.GetSnapshot().ToArray();
        Microsoft.Extensions.Logging.Testing.FakeLogRecord stepFailed = Assert.Single(logs, r => r.Id.Id == 4002);
        Assert.Equal("StepFailed", stepFailed.Id.Name);
        Assert.Contains("step 'charge' failed for good on attempt 1", stepFailed.Message, StringComparison.Ordinal);
        Microsoft.Extensions.Logging.Testing.FakeLogRecord compensationFailed = Assert.Single(logs, r => r.Id.Id == 4003);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, compensationFailed.Level);
        Assert.Contains("the compensation of step 'reserve' failed on its last attempt", compensationFailed.Message, StringComparison.Ordinal);
        Assert.IsType<PermanentStepFailureException>(compensationFailed.Exception);
    }
}
