using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.TaskQueue;

/// <summary>
/// The hosted worker of one task queue registration: a processor per handled queue, one heartbeat loop for every
/// running task, and a maintenance loop that sweeps expired leases, prunes finished tasks and refreshes statistics.
/// </summary>
internal sealed class TaskQueueWorker : BackgroundService
{
    private readonly CancellationTokenSource _stopClaiming = new();
    private readonly CancellationTokenSource _stopHeartbeats = new();
    private readonly WorkerRuntime _runtime;
    private readonly IReadOnlyList<QueueProcessor> _processors;

    public TaskQueueWorker(string name, IServiceProvider services)
    {
        TaskQueueOptions options = services.GetRequiredService<IOptionsMonitor<TaskQueueOptions>>().Get(name);
        TaskHandlerRegistry registry = services.GetRequiredService<IOptionsMonitor<TaskHandlerRegistry>>().Get(name);
        var client = services.GetRequiredKeyedService<TaskQueueClient>(name);
        ILogger logger = services.GetService<ILoggerFactory>()?.CreateLogger("BuildingBlocks.TaskQueue") ?? NullLogger.Instance;
        _runtime = new WorkerRuntime(name, client.Store, options, services.GetService<TimeProvider>() ?? TimeProvider.System,
            client.Telemetry, client.Notifier, services.GetRequiredService<IServiceScopeFactory>(), logger);
        _processors = [.. registry.Handlers.Select(h => new QueueProcessor(h, _runtime))];
    }

    public string Name => _runtime.Name;

    internal IEnumerable<TaskExecution> Running => _processors.SelectMany(p => p.Running);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopClaiming.CancelAsync().ConfigureAwait(false);
        TaskExecution[] running = [.. Running];
        if (running.Length > 0)
        {
            await DrainAsync(running, cancellationToken).ConfigureAwait(false);
        }

        await _stopHeartbeats.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        Log.WorkerStopped(_runtime.Logger, _runtime.Name, _runtime.Options.WorkerId);
    }

    public override void Dispose()
    {
        _stopClaiming.Dispose();
        _stopHeartbeats.Dispose();
        foreach (QueueProcessor processor in _processors)
        {
            processor.Dispose();
        }

        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopClaiming = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopClaiming.Token);
        using var stopHeartbeats = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopHeartbeats.Token);
        string storeName = _runtime.Store.GetType().Name;
        string queues = string.Join(", ", _processors.Select(p => p.Queue));
        Log.WorkerStarted(_runtime.Logger, _runtime.Name, _runtime.Options.WorkerId, storeName, _processors.Count, queues);

        List<Task> loops = [MaintainAsync(stopClaiming.Token), HeartbeatAsync(stopHeartbeats.Token)];
        loops.AddRange(_processors.Select(p => Task.Run(() => p.RunAsync(stopClaiming.Token), CancellationToken.None)));
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    /// <summary>Waits for running handlers up to the shutdown timeout, then cancels the rest and hands their leases back.</summary>
    private async Task DrainAsync(TaskExecution[] running, CancellationToken hostToken)
    {
        TimeSpan timeout = _runtime.Options.ShutdownTimeout;
        Task all = Task.WhenAll(running.Select(r => r.Completion));
        try
        {
            await all.WaitAsync(timeout, _runtime.TimeProvider, hostToken).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }

        TaskExecution[] late = [.. running.Where(r => !r.Completion.IsCompleted)];
        foreach (TaskExecution execution in late)
        {
            execution.Stop(StopReason.Shutdown);
        }

        // Give cooperative handlers a moment to return and release their own lease, then release the rest.
        try
        {
            await Task.WhenAll(late.Select(r => r.Completion)).WaitAsync(TimeSpan.FromSeconds(1), _runtime.TimeProvider, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        foreach (TaskExecution execution in late)
        {
            try
            {
                await execution.ReleaseForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.StoreError(_runtime.Logger, e, _runtime.Name, "release at shutdown", 0);
            }
        }

        Log.ShutdownReleased(_runtime.Logger, _runtime.Name, late.Length, timeout);
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_runtime.Options.HeartbeatInterval, _runtime.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (TaskExecution execution in Running)
                {
                    if (execution.WantsHeartbeat)
                    {
                        await execution.BeatAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_runtime.Options.SweepInterval, _runtime.TimeProvider);
        try
        {
            do
            {
                await SweepOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal async Task SweepOnceAsync(CancellationToken cancellationToken)
    {
        ITaskStore store = _runtime.Store;
        try
        {
            SweepResult swept = await store.RecoverExpiredLeasesAsync(cancellationToken).ConfigureAwait(false);
            if (swept.Requeued + swept.DeadLettered > 0)
            {
                Log.LeasesRecovered(_runtime.Logger, _runtime.Name, swept.Requeued, swept.DeadLettered);
                _runtime.Telemetry.LeaseLost(queue: null, swept.Requeued + swept.DeadLettered);
                _runtime.Telemetry.DeadLetteredBySweeper(swept.DeadLettered);
                _runtime.Notifier.NotifyAll();
            }

            DateTimeOffset now = _runtime.TimeProvider.GetUtcNow();
            int pruned = await store.PruneAsync(now - _runtime.Options.CompletedRetention, now - _runtime.Options.DeadLetterRetention, cancellationToken).ConfigureAwait(false);
            if (pruned > 0)
            {
                Log.TasksPruned(_runtime.Logger, _runtime.Name, pruned);
            }

            _runtime.Telemetry.Observed(await store.GetStatisticsAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            Log.StoreError(_runtime.Logger, e, _runtime.Name, "sweep", _runtime.Options.SweepInterval.TotalMilliseconds);
        }
    }
}
