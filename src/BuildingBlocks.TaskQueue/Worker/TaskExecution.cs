using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.TaskQueue;

/// <summary>
/// One attempt of one task in this process: runs the handler in its own DI scope, and settles the lease exactly once
/// (complete, fail, acknowledge cancel, or release at shutdown); a lost lease settles nothing.
/// </summary>
internal sealed class TaskExecution : IDisposable
{
    private static readonly TimeSpan[] s_storeRetryDelays = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1)];

    private readonly WorkerRuntime _runtime;
    private readonly TaskHandlerRegistration _registration;
    private readonly CancellationTokenSource _cancellation = new();
    private int _stopReason;
    private int _settled;
    private string? _pendingProgress;

    public TaskExecution(LeasedTask task, TaskHandlerRegistration registration, WorkerRuntime runtime)
    {
        Task = task;
        _registration = registration;
        _runtime = runtime;
    }

    public LeasedTask Task { get; }

    public Task Completion { get; set; } = System.Threading.Tasks.Task.CompletedTask;

    public JsonSerializerOptions SerializerOptions => _runtime.Options.SerializerOptions;

    public StopReason StopReason => (StopReason)Volatile.Read(ref _stopReason);

    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    /// <summary>Whether the heartbeat loop should keep this lease alive.</summary>
    public bool WantsHeartbeat => !IsSettled && StopReason is StopReason.None or StopReason.CancelRequested;

    public string? PendingProgress
    {
        get => Volatile.Read(ref _pendingProgress);
        set => Volatile.Write(ref _pendingProgress, value);
    }

    public void Stop(StopReason reason)
    {
        if (Interlocked.CompareExchange(ref _stopReason, (int)reason, 0) == 0)
        {
            try
            {
                // Handlers' cancellation callbacks must not run on the heartbeat loop or the shutdown path.
                _ = _cancellation.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The attempt already ended.
            }
        }
    }

    public void Dispose() => _cancellation.Dispose();

    /// <summary>Heartbeat on behalf of the handler: throws when the lease is lost.</summary>
    public async ValueTask HeartbeatAsync(CancellationToken cancellationToken)
    {
        if (StopReason == StopReason.LeaseLost || IsSettled)
        {
            throw new LeaseLostException(Task.Id, Task.LeaseToken, "heartbeat");
        }

        if (await BeatCoreAsync(cancellationToken).ConfigureAwait(false) == LeaseStatus.Lost)
        {
            throw new LeaseLostException(Task.Id, Task.LeaseToken, "heartbeat");
        }
    }

    /// <summary>Heartbeat from the heartbeat loop: store errors are logged, the lease may still be saved by the next beat.</summary>
    public async ValueTask BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            await BeatCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Log.StoreError(_runtime.Logger, e, _runtime.Name, "heartbeat", _runtime.Options.HeartbeatInterval.TotalMilliseconds);
        }
    }

    public async Task RunAsync()
    {
        TimeProvider time = _runtime.TimeProvider;
        DateTimeOffset due = Task.RunAt > Task.EnqueuedAt ? Task.RunAt : Task.EnqueuedAt;
        _runtime.Telemetry.PickedUp(Task.Queue, time.GetUtcNow() - due);
        long started = time.GetTimestamp();

        using Activity? activity = StartActivity();
        using CancellationTokenSource? timeout = _registration.Options.Timeout is { } limit ? new CancellationTokenSource(limit, time) : null;
        using CancellationTokenRegistration onTimeout = timeout?.Token.UnsafeRegister(static s => ((TaskExecution)s!).Stop(StopReason.Timeout), this) ?? default;

        Exception? error = null;
        AsyncServiceScope scope = _runtime.ScopeFactory.CreateAsyncScope();
        try
        {
            ITaskHandler handler = _registration.Factory(scope.ServiceProvider);
            var context = new TaskContext(this, scope.ServiceProvider);
            ValueTask run = handler.HandleAsync(context, _cancellation.Token);
            if (run.IsCompletedSuccessfully)
            {
                run.GetAwaiter().GetResult();
            }
            else if (timeout is null)
            {
                await run.ConfigureAwait(false);
            }
            else if (!await WaitOrAbandonAsync(run.AsTask(), _registration.Options.Timeout!.Value).ConfigureAwait(false))
            {
                _runtime.Telemetry.Ran(Task.Queue, "abandoned", time.GetElapsedTime(started));
                activity?.SetStatus(ActivityStatusCode.Error, "abandoned");
                return;
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }

        string outcome = await SettleAsync(error).ConfigureAwait(false);
        _runtime.Telemetry.Ran(Task.Queue, outcome, time.GetElapsedTime(started));
        activity?.SetTag(TaskQueueDiagnostics.OutcomeTag, outcome);
        if (error is not null && outcome is "retry" or "dead_lettered")
        {
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        }
    }

    /// <summary>Hands the lease back at shutdown when the handler did not return in time.</summary>
    public async ValueTask ReleaseForShutdownAsync(CancellationToken cancellationToken)
    {
        if (TrySettle())
        {
            await WriteAsync("release", ct => _runtime.Store.ReleaseAsync(Task.Id, Task.LeaseToken, ct), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<LeaseStatus> BeatCoreAsync(CancellationToken cancellationToken)
    {
        string? progress = Interlocked.Exchange(ref _pendingProgress, null);
        LeaseStatus status;
        try
        {
            status = await _runtime.Store.HeartbeatAsync(Task.Id, Task.LeaseToken, _runtime.Options.LeaseDuration, progress, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Keep the progress for the next heartbeat unless the handler set newer progress meanwhile.
            Interlocked.CompareExchange(ref _pendingProgress, progress, null);
            throw;
        }

        switch (status)
        {
            case LeaseStatus.Lost:
                if (StopReason == StopReason.None)
                {
                    _runtime.Telemetry.LeaseLost(Task.Queue);
                    Log.LeaseLost(_runtime.Logger, Task.Id, Task.Queue, Task.LeaseToken, "heartbeat");
                }

                Stop(StopReason.LeaseLost);
                break;
            case LeaseStatus.CancelRequested:
                Stop(StopReason.CancelRequested);
                break;
        }

        return status;
    }

    private async ValueTask<bool> WaitOrAbandonAsync(Task run, TimeSpan limit)
    {
        // A handler that ignores its token after the timeout is abandoned once its lease could have expired:
        // heartbeats already stopped, so the sweeper gives the task to another worker and this slot is freed.
        try
        {
            await run.WaitAsync(limit + _runtime.Options.LeaseDuration, _runtime.TimeProvider).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException) when (!run.IsCompleted)
        {
            TrySettle();
            Log.HandlerAbandoned(_runtime.Logger, Task.Id, Task.Queue, limit);
            _ = run.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return false;
        }
    }

    private async ValueTask<string> SettleAsync(Exception? error)
    {
        StopReason reason = StopReason;
        if (!TrySettle())
        {
            return "released";
        }

        if (reason == StopReason.Shutdown)
        {
            await WriteAsync("release", ct => _runtime.Store.ReleaseAsync(Task.Id, Task.LeaseToken, ct), CancellationToken.None).ConfigureAwait(false);
            return "released";
        }

        if (reason == StopReason.LeaseLost)
        {
            return "lease_lost";
        }

        if (error is null)
        {
            bool completed = await WriteAsync("complete", ct => _runtime.Store.CompleteAsync(Task.Id, Task.LeaseToken, ct), CancellationToken.None).ConfigureAwait(false);
            if (completed)
            {
                _runtime.Telemetry.Completed(Task.Queue);
            }

            return completed ? "completed" : "lease_lost";
        }

        if (reason == StopReason.CancelRequested && error is OperationCanceledException)
        {
            bool canceled = await WriteAsync("acknowledge cancel", ct => _runtime.Store.AcknowledgeCancelAsync(Task.Id, Task.LeaseToken, ct), CancellationToken.None).ConfigureAwait(false);
            if (canceled)
            {
                _runtime.Telemetry.Canceled(Task.Queue);
                Log.TaskCanceled(_runtime.Logger, Task.Id, Task.Queue);
            }

            return canceled ? "canceled" : "lease_lost";
        }

        if (reason == StopReason.Timeout && error is OperationCanceledException)
        {
            error = new TimeoutException($"The attempt ran longer than its Timeout of {_registration.Options.Timeout} and was canceled.", error);
        }

        TaskFailure failure = _runtime.Retries.Decide(Task, error, permanent: false, _registration.Options);
        bool failed = await WriteAsync("fail", ct => _runtime.Store.FailAsync(Task.Id, Task.LeaseToken, failure, ct), CancellationToken.None).ConfigureAwait(false);
        if (!failed)
        {
            return "lease_lost";
        }

        bool deadLettered = failure.RetryAt is null;
        _runtime.Telemetry.Failed(Task.Queue, deadLettered);
        if (deadLettered)
        {
            Log.TaskDeadLettered(_runtime.Logger, error, Task.Id, Task.Queue, Task.Attempt, Task.MaxAttempts);
            return "dead_lettered";
        }

        Log.TaskFailed(_runtime.Logger, error, Task.Id, Task.Queue, Task.Attempt, Task.MaxAttempts, failure.RetryAt!.Value);
        return "retry";
    }

    private bool TrySettle() => Interlocked.Exchange(ref _settled, 1) == 0;

    /// <summary>Writes the end of the attempt, retrying store errors briefly; false when the lease was lost.</summary>
    private async ValueTask<bool> WriteAsync(string operation, Func<CancellationToken, ValueTask<bool>> write, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                if (await write(cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }

                _runtime.Telemetry.LeaseLost(Task.Queue);
                Log.LeaseLost(_runtime.Logger, Task.Id, Task.Queue, Task.LeaseToken, operation);
                return false;
            }
            catch (Exception e) when (attempt < s_storeRetryDelays.Length && e is not OperationCanceledException)
            {
                Log.StoreError(_runtime.Logger, e, _runtime.Name, operation, s_storeRetryDelays[attempt].TotalMilliseconds);
                await System.Threading.Tasks.Task.Delay(s_storeRetryDelays[attempt], _runtime.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store stayed unavailable: the lease will expire and the task runs again (at least once).
                Log.StoreError(_runtime.Logger, e, _runtime.Name, operation, 0);
                return false;
            }
        }
    }

    private Activity? StartActivity()
    {
        if (!TaskQueueDiagnostics.ActivitySource.HasListeners())
        {
            return null;
        }

        Activity? activity = ActivityContext.TryParse(Task.TraceParent, null, out ActivityContext parent)
            ? TaskQueueDiagnostics.ActivitySource.StartActivity(TaskQueueDiagnostics.RunActivity, ActivityKind.Consumer, parent)
            : TaskQueueDiagnostics.ActivitySource.StartActivity(TaskQueueDiagnostics.RunActivity, ActivityKind.Consumer);
        activity?.SetTag(TaskQueueDiagnostics.QueueTag, Task.Queue);
        activity?.SetTag(TaskQueueDiagnostics.TaskIdTag, Task.Id);
        activity?.SetTag(TaskQueueDiagnostics.AttemptTag, Task.Attempt);
        return activity;
    }
}
