using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace BuildingBlocks.Sagas;

/// <summary>
/// Runs sagas: acquires active sagas from the store (leases with fencing tokens), runs each as a
/// <see cref="SagaExecution"/>, renews the leases it holds, and on stop lets running steps finish before handing the
/// leases back.
/// </summary>
internal sealed class SagaCoordinator : IAsyncDisposable, IDisposable
{
    private const int MaxAcquireBatch = 512;

    private readonly SagaRuntime _runtime;
    private readonly SagaRegistry _registry;
    private readonly ConcurrentDictionary<string, Tracked> _tracked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _skipped = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _stopped = new();
    private int _active;
    private volatile bool _running;
    private volatile bool _moreWaiting = true;
    private bool _stopFinished;
    private Task? _acquireLoop;
    private Task? _renewLoop;

    public SagaCoordinator(SagaRuntime runtime, SagaRegistry registry)
    {
        _runtime = runtime;
        _registry = registry;
    }

    /// <summary>Raised when a saga's run here ends: its id and the status it ended in (<see langword="null"/>: still active, stopped or lease lost).</summary>
    public event Action<string, SagaStatus?>? SagaEnded;

    public bool IsRunning => _running && !_stopping.IsCancellationRequested;

    public int ActiveCount => Volatile.Read(ref _active);

    public Task StartAsync()
    {
        if (_acquireLoop is not null)
        {
            return Task.CompletedTask;
        }

        _running = true;
        _acquireLoop = Task.Run(AcquireLoopAsync);
        _renewLoop = Task.Run(RenewLoopAsync);
        return Task.CompletedTask;
    }

    /// <summary>Takes a slot for a saga this process starts, so it runs here at once without waiting for a poll.</summary>
    public bool TryReserve()
    {
        if (!IsRunning)
        {
            return false;
        }

        if (Interlocked.Increment(ref _active) > _runtime.Options.MaxConcurrentSagas)
        {
            Interlocked.Decrement(ref _active);
            return false;
        }

        return true;
    }

    public void Unreserve()
    {
        Interlocked.Decrement(ref _active);
        Wake();
    }

    /// <summary>Runs a saga this coordinator holds the lease of, in a slot taken with <see cref="TryReserve"/>.</summary>
    public void Launch(SagaRecord saga)
    {
        Tracked tracked = new(saga);
        _tracked[saga.Id] = tracked;
        if (_stopping.IsCancellationRequested)
        {
            tracked.Stop();
        }

        _ = Task.Run(() => RunAsync(tracked));
    }

    /// <summary>Says sagas wait in the store (started without a free slot, retried by an operator): acquire as soon as a slot frees.</summary>
    public void NotifyWaiting()
    {
        _moreWaiting = true;
        Wake();
    }

    /// <summary>
    /// Starts a graceful stop at once (synchronously): no new sagas, no new steps or attempts; running attempts finish.
    /// Called when the host begins stopping, before any hosted service's StopAsync.
    /// </summary>
    public void BeginStop()
    {
        if (_acquireLoop is null || _stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        foreach (Tracked tracked in _tracked.Values)
        {
            tracked.Stop();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_acquireLoop is null || _stopFinished)
        {
            return;
        }

        _stopFinished = true;
        BeginStop();
        await _acquireLoop.ConfigureAwait(false);
        TimeSpan timeout = _runtime.Options.ShutdownTimeout;
        if (!await AllEndedAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            int count = _tracked.Count;
            foreach (Tracked tracked in _tracked.Values)
            {
                tracked.Abort();
            }

            Log.ShutdownCanceledSteps(_runtime.Logger, _runtime.CoordinatorId, count, timeout);

            // Steps that ignore cancellation are abandoned; their sagas resume elsewhere once the leases expire.
            await AllEndedAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }

        _running = false;
        await _stopped.CancelAsync().ConfigureAwait(false);
        if (_renewLoop is not null)
        {
            await _renewLoop.ConfigureAwait(false);
        }
    }

    /// <summary>For containers disposed without <c>await</c>: stops the same way, blocking.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _stopped.Dispose();
        _wake.Dispose();
    }

    private async Task<bool> AllEndedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Wall-clock time: a shutdown is bounded in real seconds whatever clock the sagas run on.
        long started = Stopwatch.GetTimestamp();
        while (!_tracked.IsEmpty)
        {
            if (Stopwatch.GetElapsedTime(started) >= timeout || cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None).ConfigureAwait(false);
        }

        return true;
    }

    private async Task AcquireLoopAsync()
    {
        CancellationToken stopping = _stopping.Token;
        TimeSpan failureDelay = _runtime.Options.PollInterval;
        while (!stopping.IsCancellationRequested)
        {
            int free = _runtime.Options.MaxConcurrentSagas - Volatile.Read(ref _active);
            bool full = false;
            if (free > 0)
            {
                int wanted = Math.Min(free, MaxAcquireBatch);
                Interlocked.Add(ref _active, wanted);
                IReadOnlyList<SagaRecord> acquired = [];
                try
                {
                    _moreWaiting = false;
                    acquired = await _runtime.Store.AcquireAsync(_runtime.CoordinatorId, _registry.Names, wanted, _runtime.Options.LeaseDuration, stopping).ConfigureAwait(false);
                    failureDelay = _runtime.Options.PollInterval;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    Interlocked.Add(ref _active, -wanted);
                    break;
                }
                catch (Exception exception)
                {
                    Log.StoreCallFailed(_runtime.Logger, exception, _runtime.CoordinatorId, "acquire", failureDelay);
                    failureDelay = TimeSpan.FromTicks(Math.Min(failureDelay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                }

                Interlocked.Add(ref _active, acquired.Count - wanted);
                foreach (SagaRecord saga in acquired)
                {
                    Launch(saga);
                }

                full = acquired.Count == wanted;
                _moreWaiting |= full;
            }

            if (full && !stopping.IsCancellationRequested)
            {
                continue;
            }

            try
            {
                await _wake.WaitAsync(failureDelay, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task RenewLoopAsync()
    {
        while (_running)
        {
            try
            {
                await Task.Delay(_runtime.Options.LeaseRenewalInterval, _runtime.Time, _stopped.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (!_running)
            {
                break;
            }

            List<SagaLease> leases = [.. _tracked.Values.Select(t => new SagaLease(t.Saga.Id, t.Saga.LeaseToken))];
            if (leases.Count == 0)
            {
                continue;
            }

            try
            {
                IReadOnlyList<string> lost = await _runtime.Store.RenewLeasesAsync(_runtime.CoordinatorId, leases, _runtime.Options.LeaseDuration, CancellationToken.None).ConfigureAwait(false);
                foreach (string id in lost)
                {
                    // Read the execution once: its run may end (and clear it) at any moment.
                    if (_tracked.TryGetValue(id, out Tracked? tracked) && tracked.Execution is { } execution)
                    {
                        // Another coordinator owns the saga now: stop the running attempt; its outcome would be refused anyway.
                        _runtime.Telemetry.LeaseLost(tracked.Saga.Name);
                        Log.LeaseLost(_runtime.Logger, id, tracked.Saga.Name, tracked.Saga.LeaseToken);
                        execution.LeaseLossReported = true;
                        tracked.Abort();
                    }
                }
            }
            catch (Exception exception)
            {
                Log.StoreCallFailed(_runtime.Logger, exception, _runtime.CoordinatorId, "renew leases", _runtime.Options.LeaseRenewalInterval);
            }
        }
    }

    private async Task RunAsync(Tracked tracked)
    {
        SagaRecord saga = tracked.Saga;
        SagaStatus? ended = null;
        bool release = true;
        try
        {
            SagaProgress? progress = null;
            string? problem = null;
            try
            {
                progress = SagaProgress.Deserialize(saga.Progress);
            }
            catch (JsonException exception)
            {
                problem = $"its progress record cannot be read ({exception.Message})";
            }

            SagaResolution resolution = progress is null ? SagaResolution.Suspend(problem!) : _registry.Resolve(saga, progress);
            if (resolution.SkipReason is not null)
            {
                if (_skipped.TryAdd(saga.Id, _runtime.Time.GetUtcNow()))
                {
                    Log.UnknownVersionSkipped(_runtime.Logger, saga.Id, saga.Name, saga.Version, _registry.Latest(saga.Name).Version);
                }

                // The lease is kept, not renewed: another coordinator gets the saga when it expires, and this one does not pick it again at once.
                release = false;
                return;
            }

            SagaExecution? execution = null;
            string? suspendReason = resolution.SuspendReason;
            if (suspendReason is null)
            {
                try
                {
                    execution = resolution.Blueprint!.CreateExecution(saga, _runtime, progress!);
                }
                catch (SagaDataException exception)
                {
                    suspendReason = exception.Message;
                }
            }

            if (execution is null)
            {
                release = !await SagaSuspension.SuspendAsync(_runtime, saga, saga.Data, saga.Progress, suspendReason!, CancellationToken.None).ConfigureAwait(false);
                ended = release ? null : SagaStatus.Suspended;
                return;
            }

            using (execution)
            {
                tracked.Execution = execution;
                if (tracked.StopRequested)
                {
                    await execution.Stopping.CancelAsync().ConfigureAwait(false);
                }

                if (tracked.AbortRequested)
                {
                    await execution.Abort.CancelAsync().ConfigureAwait(false);
                }

                ended = await execution.RunAsync().ConfigureAwait(false);
                release = ended is null;
                tracked.Execution = null;
            }
        }
        catch (Exception exception)
        {
            Log.CheckpointFailed(_runtime.Logger, exception, saga.Id, saga.Name);
        }
        finally
        {
            if (release)
            {
                try
                {
                    await _runtime.Store.ReleaseLeasesAsync(_runtime.CoordinatorId, [new SagaLease(saga.Id, saga.LeaseToken)], CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    // The lease expires on its own.
                    Log.StoreCallFailed(_runtime.Logger, exception, _runtime.CoordinatorId, "release lease", _runtime.Options.LeaseDuration);
                }
            }

            // Only this run's entry: a newer run of the same saga (re-acquired with a higher token) keeps its own.
            _tracked.TryRemove(new KeyValuePair<string, Tracked>(saga.Id, tracked));
            Interlocked.Decrement(ref _active);
            SagaEnded?.Invoke(saga.Id, ended);
            if (_moreWaiting)
            {
                Wake();
            }
        }
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
        catch (ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private sealed class Tracked(SagaRecord saga)
    {
        public SagaRecord Saga { get; } = saga;

        public volatile SagaExecution? Execution;

        public bool StopRequested { get; private set; }

        public bool AbortRequested { get; private set; }

        public void Stop()
        {
            StopRequested = true;
            CancelQuietly(Execution?.Stopping);
        }

        public void Abort()
        {
            AbortRequested = true;
            CancelQuietly(Execution?.Abort);
        }

        private static void CancelQuietly(CancellationTokenSource? source)
        {
            try
            {
                source?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The execution ended meanwhile.
            }
        }
    }
}
