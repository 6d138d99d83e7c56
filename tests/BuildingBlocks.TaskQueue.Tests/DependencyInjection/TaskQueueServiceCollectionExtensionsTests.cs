// Queue calls here are bounded by explicit waits (WaitForStateAsync, WaitAsync with a timeout), not by the test token.
#pragma warning disable xUnit1051

using System.Diagnostics;
using System.Text;
using BuildingBlocks.TaskQueue;
using BuildingBlocks.TaskQueue.Tests.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Tests.DependencyInjection;

public sealed class TaskQueueServiceCollectionExtensionsTests
{
    [Fact]
    public void AddTaskQueue_CalledTwice_RegistersOneQueueAndAddsTheConfigurations()
    {
        var services = new ServiceCollection();
        services.AddTaskQueue(o => o.DefaultMaxAttempts = 7);
        services.AddTaskQueue(o => o.MaxPayloadBytes = 123);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(ITaskQueue) && !d.IsKeyedService);
        Assert.Same(provider.GetRequiredService<ITaskQueue>(), provider.GetRequiredKeyedService<ITaskQueue>(""));
        TaskQueueOptions options = provider.GetRequiredService<IOptionsMonitor<TaskQueueOptions>>().Get("");
        Assert.Equal(7, options.DefaultMaxAttempts);
        Assert.Equal(123, options.MaxPayloadBytes);
        Assert.IsType<InMemoryTaskStore>(provider.GetRequiredKeyedService<ITaskStore>(""));
    }

    [Fact]
    public async Task NamedQueues_HaveTheirOwnStoresAndHandlers()
    {
        int billing = 0, email = 0;
        await using WorkerHost host = await WorkerHost.StartAsync(s =>
        {
            s.AddTaskQueue("billing", WorkerHost.FastTimings).AddHandler("jobs", (_, _) =>
            {
                Interlocked.Increment(ref billing);
                return ValueTask.CompletedTask;
            });
            s.AddTaskQueue("email", WorkerHost.FastTimings).AddHandler("jobs", (_, _) =>
            {
                Interlocked.Increment(ref email);
                return ValueTask.CompletedTask;
            });
        });

        ITaskQueue billingQueue = host.Services.GetRequiredKeyedService<ITaskQueue>("billing");
        ITaskQueue emailQueue = host.Services.GetRequiredKeyedService<ITaskQueue>("email");
        Assert.NotSame(host.Services.GetRequiredKeyedService<ITaskStore>("billing"), host.Services.GetRequiredKeyedService<ITaskStore>("email"));

        EnqueueResult b = await billingQueue.EnqueueAsync(new NewTask("jobs", Encoding.UTF8.GetBytes("invoice")));
        await WorkerHost.EventuallyAsync(async () => (await billingQueue.GetAsync(b.TaskId))!.State == TaskState.Completed, "billing job completes");

        Assert.Equal(1, billing);
        Assert.Equal(0, email);
        Assert.Null(host.Services.GetService<ITaskQueue>());
    }

    [Fact]
    public async Task InvalidOptions_FailAtStartUp_WithAMessageNamingTheOption()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue(o =>
        {
            o.LeaseDuration = TimeSpan.FromSeconds(5);
            o.HeartbeatInterval = TimeSpan.FromSeconds(5);
        }).AddHandler("q", (_, _) => ValueTask.CompletedTask);
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("TaskQueueOptions.HeartbeatInterval is 00:00:05; it must be less than LeaseDuration (00:00:05)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoHandlersForOneQueue_FailAtStartUp_NamingTheQueue()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue()
            .AddHandler("emails", (_, _) => ValueTask.CompletedTask)
            .AddHandler("emails", (_, _) => ValueTask.CompletedTask, o => o.Concurrency = 0);
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Queue 'emails' has 2 handlers", error.Message, StringComparison.Ordinal);
        Assert.Contains("Concurrency is 0; it must be between 1 and 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHandler_WithABlankQueueName_ThrowsNamingTheRule()
    {
        var services = new ServiceCollection();
        ArgumentException error = Assert.Throws<ArgumentException>(() => services.AddTaskQueue().AddHandler(" ", (_, _) => ValueTask.CompletedTask));
        Assert.Contains("queue name must be 1 to 200 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseStore_ReplacesTheDefaultInMemoryStore()
    {
        var store = new InMemoryTaskStore();
        var services = new ServiceCollection();
        services.AddTaskQueue().UseStore(_ => store);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(store, provider.GetRequiredKeyedService<ITaskStore>(""));
        Assert.Same(store, ((TaskQueueClient)provider.GetRequiredService<ITaskQueue>()).Store);
    }

    [Fact]
    public async Task Metrics_CountEnqueuedClaimedCompletedAndFailed()
    {
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddMetrics().AddTaskQueue(WorkerHost.FastTimings)
            .AddHandler("metered", (ctx, _) => ctx.Attempt == 1 ? throw new InvalidOperationException("first try fails") : ValueTask.CompletedTask));
        var meterFactory = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var enqueued = new MetricCollector<long>(meterFactory, TaskQueueDiagnostics.MeterName, TaskQueueDiagnostics.EnqueuedInstrument);
        using var completed = new MetricCollector<long>(meterFactory, TaskQueueDiagnostics.MeterName, TaskQueueDiagnostics.CompletedInstrument);
        using var failed = new MetricCollector<long>(meterFactory, TaskQueueDiagnostics.MeterName, TaskQueueDiagnostics.FailedInstrument);
        using var pickup = new MetricCollector<double>(meterFactory, TaskQueueDiagnostics.MeterName, TaskQueueDiagnostics.PickupLatencyInstrument);

        EnqueueResult result = await host.Queue.EnqueueAsync(new NewTask("metered", Encoding.UTF8.GetBytes("m")) { UniqueKey = "once" });
        await host.Queue.EnqueueAsync(new NewTask("metered", Encoding.UTF8.GetBytes("m")) { UniqueKey = "once" });
        await host.WaitForStateAsync(result.TaskId, TaskState.Completed);
        await WorkerHost.EventuallyAsync(() => Task.FromResult(completed.GetMeasurementSnapshot().Count == 1), "the completion is recorded");

        Assert.Equal(1, enqueued.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal("metered", enqueued.LastMeasurement!.Tags[TaskQueueDiagnostics.QueueTag]);
        Assert.Equal(1, failed.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(2, pickup.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public async Task Tracing_RunSpanIsAChildOfTheEnqueueSpan()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TaskQueueDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (stopped)
                {
                    stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        // The listener is process-wide and task ids restart at 1 in every in-memory store, so other tests' spans carry the
        // same ids: a queue name of its own tells this test's spans apart.
        string queue = "traced-" + Guid.NewGuid().ToString("N");
        await using WorkerHost host = await WorkerHost.StartAsync(s => s.AddTaskQueue(WorkerHost.FastTimings).AddHandler(queue, (_, _) => ValueTask.CompletedTask));

        EnqueueResult result = await host.Queue.EnqueueAsync(new NewTask(queue, Encoding.UTF8.GetBytes("t")));
        await WorkerHost.EventuallyAsync(() =>
        {
            lock (stopped)
            {
                return Task.FromResult(stopped.Any(a => IsRunOf(a, queue, result.TaskId)));
            }
        }, "the run span stops");

        lock (stopped)
        {
            Activity run = Assert.Single(stopped, a => IsRunOf(a, queue, result.TaskId));
            Activity enqueue = Assert.Single(stopped, a => a.OperationName == TaskQueueDiagnostics.EnqueueActivity && a.SpanId == run.ParentSpanId);
            Assert.Equal(enqueue.TraceId, run.TraceId);
            Assert.Equal(enqueue.SpanId, run.ParentSpanId);
            Assert.Equal(ActivityKind.Consumer, run.Kind);
            Assert.Equal("completed", run.GetTagItem(TaskQueueDiagnostics.OutcomeTag));
        }
    }

    private static bool IsRunOf(Activity activity, string queue, long taskId) =>
        activity.OperationName == TaskQueueDiagnostics.RunActivity &&
        (string?)activity.GetTagItem(TaskQueueDiagnostics.QueueTag) == queue &&
        (long?)activity.GetTagItem(TaskQueueDiagnostics.TaskIdTag) == taskId;
}
