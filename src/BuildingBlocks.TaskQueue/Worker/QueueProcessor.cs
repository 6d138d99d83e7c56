using System.Collections.Concurrent;

namespace BuildingBlocks.TaskQueue;

/// <summary>
/// Claims and runs the tasks of one queue with bounded concurrency: claims as many tasks as it has free slots, in
/// one store call, and sleeps until an enqueue wakes it or the poll interval passes.
/// </summary>
internal sealed class QueueProcessor : IDisposable
{
    private const int CoalesceYields = 4;

    private readonly TaskHandlerRegistration _registration;
    private readonly WorkerRuntime _runtime;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<TaskExecution, byte> _running = new();

    public QueueProcessor(TaskHandlerRegistration registration, WorkerRuntime runtime)
    {
        _registration = registration;
        _runtime = runtime;
        _slots = new SemaphoreSlim(registration.Options.Concurrency, registration.Options.Concurrency);
    }

    public string Queue => _registration.Queue;

    public ICollection<TaskExecution> Running => _running.Keys;

    public async Task RunAsync(CancellationToken stopClaiming)
    {
        int concurrency = _registration.Options.Concurrency;
        int failures = 0;
        bool backlog = false;
        while (!stopClaiming.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(stopClaiming).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            int free = 1 + TakeFreeSlots(concurrency - 1);
            if (backlog && free < concurrency)
            {
                // The last claim was full, so more work is waiting: let the handlers that are finishing release their
                // slots first, so one claim fetches several tasks instead of one claim per completed task.
                for (int i = 0; i < CoalesceYields && free < concurrency; i++)
                {
                    await Task.Yield();
                    free += TakeFreeSlots(concurrency - free);
                }
            }

            IReadOnlyList<LeasedTask> claimed;
            try
            {
                claimed = await _runtime.Store.ClaimAsync(new ClaimRequest(Queue, _runtime.Options.WorkerId, free, _runtime.Options.LeaseDuration), stopClaiming).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (stopClaiming.IsCancellationRequested)
            {
                _slots.Release(free);
                break;
            }
            catch (Exception e)
            {
                _slots.Release(free);
                TimeSpan delay = TimeSpan.FromTicks(_runtime.Options.PollInterval.Ticks * Math.Min(1L << Math.Min(failures++, 4), 16));
                Log.StoreError(_runtime.Logger, e, _runtime.Name, $"claim from '{Queue}'", delay.TotalMilliseconds);
                if (!await DelayAsync(delay, stopClaiming).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            backlog = claimed.Count == free;
            if (claimed.Count < free)
            {
                _slots.Release(free - claimed.Count);
            }

            if (claimed.Count > 0)
            {
                _runtime.Telemetry.Claimed(Queue, claimed.Count);
                foreach (LeasedTask task in claimed)
                {
                    Start(task);
                }
            }

            if (claimed.Count < free && !await WaitForTasksAsync(stopClaiming).ConfigureAwait(false))
            {
                break;
            }
        }
    }

    public void Dispose() => _slots.Dispose();

    private int TakeFreeSlots(int max)
    {
        int taken = 0;
        while (taken < max && _slots.Wait(0, CancellationToken.None))
        {
            taken++;
        }

        return taken;
    }

    private void Start(LeasedTask task)
    {
        var execution = new TaskExecution(task, _registration, _runtime);
        _running.TryAdd(execution, 0);
        execution.Completion = Task.Run(async () =>
        {
            try
            {
                await execution.RunAsync().ConfigureAwait(false);
            }
            finally
            {
                _running.TryRemove(execution, out _);
                execution.Dispose();
                _slots.Release();
            }
        });
    }

    /// <summary>The queue was drained: sleep until an enqueue in this process wakes us, or until the next poll.</summary>
    private async ValueTask<bool> WaitForTasksAsync(CancellationToken stopClaiming)
    {
        try
        {
            // Jitter the poll so many workers do not query the store in lockstep.
            TimeSpan poll = _runtime.Options.PollInterval * (0.9 + (Random.Shared.NextDouble() * 0.2));
            await _runtime.Notifier.WaitAsync(Queue, poll, _runtime.TimeProvider, stopClaiming).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async ValueTask<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _runtime.TimeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
