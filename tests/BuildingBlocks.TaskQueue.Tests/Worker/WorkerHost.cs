using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.TaskQueue.Tests.Worker;

/// <summary>A real generic host running the task queue worker, with fast timings so flows finish in milliseconds.</summary>
internal sealed class WorkerHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private WorkerHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public ITaskQueue Queue => _host.Services.GetRequiredService<ITaskQueue>();

    public ITaskStore Store => _host.Services.GetRequiredKeyedService<ITaskStore>("");

    public static void FastTimings(TaskQueueOptions o)
    {
        o.LeaseDuration = TimeSpan.FromSeconds(2);
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        o.PollInterval = TimeSpan.FromMilliseconds(100);
        o.SweepInterval = TimeSpan.FromMilliseconds(200);
        o.RetryBaseDelay = TimeSpan.Zero;
        o.RetryMaxDelay = TimeSpan.Zero;
        o.ShutdownTimeout = TimeSpan.FromSeconds(5);
    }

    public static async Task<WorkerHost> StartAsync(Action<IServiceCollection> configure)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configure(builder.Services);
        IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new WorkerHost(host);
    }

    public async Task StopAsync()
    {
        _stopped = true;
        await _host.StopAsync(CancellationToken.None);
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, double seconds = 20)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (!await condition())
        {
            try
            {
                await Task.Delay(20, limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out after {seconds} s waiting until {what}.");
            }
        }
    }

    public Task WaitForStateAsync(long taskId, TaskState state, double seconds = 20) =>
        EventuallyAsync(async () => (await Store.GetAsync(taskId, CancellationToken.None))?.State == state, $"task {taskId} is {state}", seconds);

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            await _host.StopAsync(CancellationToken.None);
        }

        _host.Dispose();
    }
}
