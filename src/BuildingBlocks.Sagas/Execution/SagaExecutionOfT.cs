using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Sagas;

/// <summary>
/// Runs one saga's steps forward, then (after a failure for good or a passed deadline) its compensations in reverse
/// completion order, writing a checkpoint after every outcome. Checkpoints of parallel branches are written one at a time.
/// </summary>
internal sealed class SagaExecution<TData> : SagaExecution
    where TData : class
{
    // Timers longer than this are not armed (CancellationTokenSource caps at ~49.7 days); the deadline is checked again before every attempt.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(30);

    private readonly SagaBlueprint<TData> _blueprint;
    private readonly SagaDataSerializer<TData> _serializer;
    private readonly SagaProgress _progress;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TData _data;
    private SagaStatus _status;
    private string? _error;
    private string _savedData;
    private string _savedProgress;
    private bool _suspended;
    private bool _finished;

    public SagaExecution(SagaRecord record, SagaRuntime runtime, SagaBlueprint<TData> blueprint, SagaProgress progress, TData data)
        : base(record, runtime)
    {
        _blueprint = blueprint;
        _serializer = runtime.Serializer<TData>();
        _progress = progress;
        _data = data;
        _status = record.Status;
        _error = record.Error;
        _savedData = record.Data;
        _savedProgress = record.Progress;
        if (blueprint.Version != record.Version && progress.RunsAs != blueprint.Version)
        {
            // A newer version carries this saga on: from the next checkpoint it runs as that version, so coordinators
            // that only know the older one leave it alone instead of finishing it without the newer steps.
            progress.RunsAs = blueprint.Version;
            progress.Shape = blueprint.Shape;
        }
    }

    private enum Outcome
    {
        Completed,
        Failed,
        Deadline,
        Stopped,
    }

    private string Name => Record.Name;

    public override async Task<SagaStatus?> RunAsync()
    {
        using Activity? span = SagaTelemetry.Source.StartActivity($"saga {Name}");
        span?.SetTag(SagasDiagnostics.SagaTag, Name);
        span?.SetTag(SagasDiagnostics.SagaIdTag, SagaId);
        span?.SetTag(SagasDiagnostics.VersionTag, Record.Version);
        span?.SetTag(SagasDiagnostics.LeaseTokenTag, LeaseToken);
        try
        {
            SagaStatus? ended = await RunCoreAsync().ConfigureAwait(false);
            span?.SetTag(SagasDiagnostics.OutcomeTag, ended?.ToString() ?? "stopped");
            return ended;
        }
        catch (SagaHaltedException halted)
        {
            if (halted.LeaseLost)
            {
                if (!LeaseLossReported)
                {
                    Runtime.Telemetry.LeaseLost(Name);
                    Log.LeaseLost(Runtime.Logger, SagaId, Name, LeaseToken);
                }

                span?.SetTag(SagasDiagnostics.OutcomeTag, "lease_lost");
                return null;
            }

            span?.SetTag(SagasDiagnostics.OutcomeTag, "suspended");
            return SagaStatus.Suspended;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !Abort.IsCancellationRequested)
        {
            // The store failed to take a checkpoint: the saga resumes from its last one, here or elsewhere.
            Log.CheckpointFailed(Runtime.Logger, exception, SagaId, Name);
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private async Task<SagaStatus?> RunCoreAsync()
    {
        if (!_progress.Compensating)
        {
            Outcome forward = await RunForwardAsync().ConfigureAwait(false);
            if (forward == Outcome.Stopped)
            {
                return null;
            }

            if (forward == Outcome.Completed)
            {
                if (!_finished)
                {
                    await WriteLockedAsync(SagaStatus.Completed, null, release: true, SagaEventKind.Completed).ConfigureAwait(false);
                }

                Runtime.Telemetry.Completed(Name);
                return SagaStatus.Completed;
            }
        }

        return await RunCompensationAsync().ConfigureAwait(false);
    }

    private async Task<Outcome> RunForwardAsync()
    {
        foreach (SagaStage<TData> stage in _blueprint.Stages)
        {
            List<SagaStepDefinition<TData>> pending = [];
            bool failedBefore = false;
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                foreach (SagaStepDefinition<TData> step in stage.Steps)
                {
                    SagaProgress.StepProgress progress = _progress.Step(step.Name);
                    if (progress.Status == SagaStepStatus.Pending)
                    {
                        pending.Add(step);
                    }
                    else if (progress.Status == SagaStepStatus.Failed)
                    {
                        failedBefore = true;
                    }
                }
            }
            finally
            {
                _gate.Release();
            }

            if (pending.Count == 0 && !failedBefore)
            {
                continue;
            }

            if (stage.Group is null && pending.Count == 0)
            {
                // A single step recorded as failed without the switch to compensation (not written by this version): compensate now.
                await EnterCompensationAsync(null, null, _error ?? $"Step '{stage.Steps[0].Name}' failed.").ConfigureAwait(false);
                return Outcome.Failed;
            }

            if (Stopping.IsCancellationRequested)
            {
                return Outcome.Stopped;
            }

            if (DeadlinePassed())
            {
                await EnterCompensationAsync(SagaEventKind.DeadlineExceeded, null, $"The saga deadline {_progress.DeadlineAt:O} passed before step '{stage.Steps[0].Name}'.").ConfigureAwait(false);
                return Outcome.Failed;
            }

            Outcome outcome = stage.Group is null
                ? await RunStepAsync(pending[0], group: null).ConfigureAwait(false)
                : await RunGroupAsync(stage, pending, failedBefore).ConfigureAwait(false);
            if (outcome != Outcome.Completed)
            {
                return outcome;
            }
        }

        return Outcome.Completed;
    }

    private async Task<Outcome> RunGroupAsync(SagaStage<TData> stage, List<SagaStepDefinition<TData>> pending, bool failedBefore)
    {
        using CancellationTokenSource noMoreAttempts = new();
        if (failedBefore)
        {
            // A branch failed before a restart: the others get one attempt to settle what they may have done, no retries.
            await noMoreAttempts.CancelAsync().ConfigureAwait(false);
        }

        Outcome[] outcomes = await Task.WhenAll(pending.Select(step => RunStepAsync(step, noMoreAttempts))).ConfigureAwait(false);
        if (outcomes.Contains(Outcome.Stopped))
        {
            return Outcome.Stopped;
        }

        if (outcomes.Contains(Outcome.Deadline))
        {
            await EnterCompensationAsync(SagaEventKind.DeadlineExceeded, null, $"The saga deadline {_progress.DeadlineAt:O} passed during parallel group '{stage.Group}'.").ConfigureAwait(false);
            return Outcome.Failed;
        }

        if (failedBefore || outcomes.Contains(Outcome.Failed))
        {
            await EnterCompensationAsync(null, null, _error ?? $"A branch of parallel group '{stage.Group}' failed.").ConfigureAwait(false);
            return Outcome.Failed;
        }

        return Outcome.Completed;
    }

    private async Task<Outcome> RunStepAsync(SagaStepDefinition<TData> step, CancellationTokenSource? group)
    {
        SagaProgress.StepProgress progress = _progress.Step(step.Name);
        SagaRetryPolicy policy = step.Retry ?? Runtime.Options.DefaultStepRetry;
        TimeSpan? timeout = step.AttemptTimeout ?? Runtime.Options.DefaultAttemptTimeout;
        DateTimeOffset firstAttemptAt = progress.FirstAttemptAt ?? Runtime.Time.GetUtcNow();
        DateTimeOffset? stepEnds = step.StepTimeout is { } stepTimeout ? firstAttemptAt + stepTimeout : null;
        while (true)
        {
            int attempt = progress.Attempts + 1;
            (Outcome outcome, Exception? error, TimeSpan duration) = stepEnds <= Runtime.Time.GetUtcNow()
                ? (Outcome.Failed, new TimeoutException($"Step '{step.Name}' did not complete within its step timeout ({step.StepTimeout})."), TimeSpan.Zero)
                : await RunAttemptAsync(step.Action!, step.Name, SagaDirection.Forward, attempt, Earliest(timeout, stepEnds), _progress.DeadlineAt).ConfigureAwait(false);
            switch (outcome)
            {
                case Outcome.Completed:
                    await _gate.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        progress.Status = SagaStepStatus.Completed;
                        SagaEvent completed = NewEvent(SagaEventKind.StepCompleted, step.Name, attempt, duration, null);
                        progress.CompletedSequence = completed.Sequence;
                        if (_blueprint.Stages[^1].Steps.Contains(step) && AllStepsCompleted())
                        {
                            // The last step: its checkpoint also finishes the saga, one write instead of two.
                            await WriteAsync(SagaStatus.Completed, null, release: true, completed, NewEvent(SagaEventKind.Completed, null, 0, null, null)).ConfigureAwait(false);
                            _finished = true;
                        }
                        else
                        {
                            await WriteAsync(_status, _error, release: false, completed).ConfigureAwait(false);
                        }
                    }
                    finally
                    {
                        _gate.Release();
                    }

                    return Outcome.Completed;

                case Outcome.Stopped:
                    return Outcome.Stopped;

                case Outcome.Deadline:
                    if (group is null)
                    {
                        await EnterCompensationAsync(SagaEventKind.DeadlineExceeded, step.Name, $"The saga deadline {_progress.DeadlineAt:O} passed during step '{step.Name}' (attempt {attempt}).").ConfigureAwait(false);
                        return Outcome.Failed;
                    }

                    return Outcome.Deadline;
            }

            bool retry = policy.IsRetriable(error!) && attempt < policy.MaxAttempts && group?.IsCancellationRequested != true;
            TimeSpan delay = retry ? policy.DelayBefore(attempt + 1, Random.Shared.NextDouble()) : TimeSpan.Zero;
            if (retry && stepEnds is { } ends && Runtime.Time.GetUtcNow() + delay >= ends)
            {
                retry = false;
                error = new TimeoutException($"Step '{step.Name}' did not complete within its step timeout ({step.StepTimeout}); attempt {attempt} failed and the next would start after it.", error);
            }

            if (retry)
            {
                await _gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    progress.Attempts = attempt;
                    progress.FirstAttemptAt ??= firstAttemptAt;
                    await WriteAsync(_status, _error, release: false, NewEvent(SagaEventKind.StepAttemptFailed, step.Name, attempt, duration, Describe(error!))).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }

                Log.StepAttemptFailed(Runtime.Logger, error!, SagaId, Name, SagaDirection.Forward, step.Name, attempt, policy.MaxAttempts, delay);
                Outcome waited = await WaitAsync(delay, group, _progress.DeadlineAt).ConfigureAwait(false);
                if (waited == Outcome.Completed)
                {
                    continue;
                }

                if (waited == Outcome.Stopped)
                {
                    return Outcome.Stopped;
                }

                if (waited == Outcome.Deadline)
                {
                    if (group is null)
                    {
                        await EnterCompensationAsync(SagaEventKind.DeadlineExceeded, step.Name, $"The saga deadline {_progress.DeadlineAt:O} passed while step '{step.Name}' waited to retry.").ConfigureAwait(false);
                        return Outcome.Failed;
                    }

                    return Outcome.Deadline;
                }

                error = new OperationCanceledException($"Step '{step.Name}' was not retried: another branch of its parallel group failed.", error);
            }

            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                progress.Status = SagaStepStatus.Failed;
                progress.Attempts = attempt;
                progress.FirstAttemptAt ??= firstAttemptAt;
                string detail = Describe(error!);
                SagaEvent failed = NewEvent(SagaEventKind.StepFailed, step.Name, attempt, duration, detail);
                if (step.CompensateWhenFailed)
                {
                    progress.CompletedSequence = failed.Sequence;
                }

                string reason = $"Step '{step.Name}' failed: {detail}";
                if (group is null)
                {
                    _progress.Compensating = true;
                    await WriteAsync(SagaStatus.Compensating, reason, release: false, failed).ConfigureAwait(false);
                }
                else
                {
                    _error ??= reason;
                    await WriteAsync(_status, _error, release: false, failed).ConfigureAwait(false);
                    await group.CancelAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                _gate.Release();
            }

            Log.StepFailed(Runtime.Logger, error!, SagaId, Name, step.Name, attempt);
            return Outcome.Failed;
        }
    }

    private async Task<SagaStatus?> RunCompensationAsync()
    {
        List<SagaProgress.StepProgress> toUndo = [.. _progress.Steps
            .Where(s => _blueprint.Steps.TryGetValue(s.Name, out SagaStepDefinition<TData>? step) && step.Compensation is not null
                && (s.Status is SagaStepStatus.Completed or SagaStepStatus.CompensationFailed
                    || (s.Status == SagaStepStatus.Failed && step.CompensateWhenFailed)))
            .OrderByDescending(s => s.CompletedSequence)];
        foreach (SagaProgress.StepProgress progress in toUndo)
        {
            SagaStepDefinition<TData> step = _blueprint.Steps[progress.Name];
            SagaRetryPolicy policy = step.CompensationRetry ?? Runtime.Options.DefaultCompensationRetry;
            TimeSpan? timeout = step.CompensationAttemptTimeout ?? step.AttemptTimeout ?? Runtime.Options.DefaultAttemptTimeout;
            while (true)
            {
                if (Stopping.IsCancellationRequested)
                {
                    return null;
                }

                int attempt = progress.CompensationAttempts + 1;
                (Outcome outcome, Exception? error, TimeSpan duration) = await RunAttemptAsync(step.Compensation!, step.Name, SagaDirection.Compensation, attempt, timeout, deadline: null).ConfigureAwait(false);
                if (outcome == Outcome.Stopped)
                {
                    return null;
                }

                if (outcome == Outcome.Completed)
                {
                    progress.Status = SagaStepStatus.Compensated;
                    await WriteLockedAsync(SagaStatus.Compensating, _error, release: false, SagaEventKind.CompensationCompleted, step.Name, attempt, duration).ConfigureAwait(false);
                    break;
                }

                if (policy.IsRetriable(error!) && attempt < policy.MaxAttempts)
                {
                    progress.CompensationAttempts = attempt;
                    await WriteLockedAsync(SagaStatus.Compensating, _error, release: false, SagaEventKind.CompensationAttemptFailed, step.Name, attempt, duration, Describe(error!)).ConfigureAwait(false);
                    TimeSpan delay = policy.DelayBefore(attempt + 1, Random.Shared.NextDouble());
                    Log.StepAttemptFailed(Runtime.Logger, error!, SagaId, Name, SagaDirection.Compensation, step.Name, attempt, policy.MaxAttempts, delay);
                    if (await WaitAsync(delay, group: null, deadline: null).ConfigureAwait(false) == Outcome.Stopped)
                    {
                        return null;
                    }

                    continue;
                }

                progress.Status = SagaStepStatus.CompensationFailed;
                progress.CompensationAttempts = attempt;
                string detail = Describe(error!);
                await WriteLockedAsync(SagaStatus.CompensationFailed, $"The compensation of step '{step.Name}' failed after {attempt} attempt(s): {detail}", release: true, SagaEventKind.CompensationFailed, step.Name, attempt, duration, detail).ConfigureAwait(false);
                Runtime.Telemetry.Parked(Name, "compensation_failed");
                Log.CompensationFailed(Runtime.Logger, error!, SagaId, Name, step.Name, attempt);
                return SagaStatus.CompensationFailed;
            }
        }

        await WriteLockedAsync(SagaStatus.Compensated, _error, release: true, SagaEventKind.Compensated).ConfigureAwait(false);
        Runtime.Telemetry.Compensated(Name);
        return SagaStatus.Compensated;
    }

    private async Task<(Outcome Outcome, Exception? Error, TimeSpan Duration)> RunAttemptAsync(
        Func<SagaStepContext<TData>, CancellationToken, Task> run, string step, SagaDirection direction, int attempt, TimeSpan? timeout, DateTimeOffset? deadline)
    {
        if (Abort.IsCancellationRequested)
        {
            return (Outcome.Stopped, null, TimeSpan.Zero);
        }

        if (DeadlinePassed(deadline))
        {
            return (Outcome.Deadline, null, TimeSpan.Zero);
        }

        using Activity? span = SagaTelemetry.Source.StartActivity(direction == SagaDirection.Forward ? $"saga step {step}" : $"saga compensate {step}");
        span?.SetTag(SagasDiagnostics.SagaTag, Name);
        span?.SetTag(SagasDiagnostics.SagaIdTag, SagaId);
        span?.SetTag(SagasDiagnostics.StepTag, step);
        span?.SetTag(SagasDiagnostics.DirectionTag, direction == SagaDirection.Forward ? "forward" : "compensation");
        span?.SetTag(SagasDiagnostics.AttemptTag, attempt);
        using CancellationTokenSource timeoutSource = Timer(timeout);
        using CancellationTokenSource deadlineSource = Timer(deadline - Runtime.Time.GetUtcNow());
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(Abort.Token, timeoutSource.Token, deadlineSource.Token);
        AsyncServiceScope scope = Runtime.ScopeFactory.CreateAsyncScope();
        long started = Runtime.Time.GetTimestamp();
        Outcome outcome;
        Exception? error = null;
        Task? task = null;
        try
        {
            SagaStepContext<TData> context = new(SagaId, Name, step, direction, attempt, _data, scope.ServiceProvider);
            task = run(context, linked.Token) ?? Task.CompletedTask;
            await task.WaitAsync(linked.Token).ConfigureAwait(false);
            outcome = Outcome.Completed;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            if (Abort.IsCancellationRequested)
            {
                outcome = Outcome.Stopped;
            }
            else if (deadlineSource.IsCancellationRequested)
            {
                // The deadline wins over an attempt timeout that fired at the same moment.
                outcome = Outcome.Deadline;
            }
            else
            {
                outcome = Outcome.Failed;
                error = new TimeoutException($"Attempt {attempt} of the {(direction == SagaDirection.Forward ? "action" : "compensation")} of step '{step}' did not finish within {timeout}.");
            }
        }
        catch (Exception exception)
        {
            outcome = Outcome.Failed;
            error = exception;
        }

        TimeSpan duration = Runtime.Time.GetElapsedTime(started);
        if (task is { IsCompleted: false })
        {
            // A step that ignores its token is abandoned; its scope goes when it ends, and its error is observed.
            _ = task.ContinueWith(static (t, s) => { _ = t.Exception; _ = ((IAsyncDisposable)s!).DisposeAsync().AsTask(); }, scope, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }

        string outcomeName = outcome switch
        {
            Outcome.Completed => "completed",
            Outcome.Stopped => "stopped",
            Outcome.Deadline => "deadline",
            _ => error is TimeoutException ? "timeout" : "failed",
        };
        Runtime.Telemetry.StepAttempt(Name, step, direction, outcomeName, duration);
        span?.SetTag(SagasDiagnostics.OutcomeTag, outcomeName);
        if (error is not null)
        {
            span?.SetStatus(ActivityStatusCode.Error, error.Message);
        }

        return (outcome, error, duration);
    }

    /// <summary>Waits a retry delay: <see cref="Outcome.Completed"/> when it ran out, otherwise what cut it short (the group's as Failed).</summary>
    private async Task<Outcome> WaitAsync(TimeSpan delay, CancellationTokenSource? group, DateTimeOffset? deadline)
    {
        using CancellationTokenSource deadlineSource = Timer(deadline - Runtime.Time.GetUtcNow());
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(Stopping.Token, Abort.Token, deadlineSource.Token, group?.Token ?? CancellationToken.None);
        try
        {
            await Task.Delay(delay, Runtime.Time, linked.Token).ConfigureAwait(false);
            return Outcome.Completed;
        }
        catch (OperationCanceledException)
        {
            if (Stopping.IsCancellationRequested || Abort.IsCancellationRequested)
            {
                return Outcome.Stopped;
            }

            return deadlineSource.IsCancellationRequested ? Outcome.Deadline : Outcome.Failed;
        }
    }

    private async Task EnterCompensationAsync(SagaEventKind? kind, string? step, string reason)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _progress.Compensating = true;
            if (kind is { } eventKind)
            {
                Log.DeadlineExceeded(Runtime.Logger, SagaId, Name, _progress.DeadlineAt ?? Runtime.Time.GetUtcNow());
                await WriteAsync(SagaStatus.Compensating, reason, release: false, NewEvent(eventKind, step, 0, null, reason)).ConfigureAwait(false);
            }
            else
            {
                await WriteAsync(SagaStatus.Compensating, reason, release: false).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task WriteLockedAsync(SagaStatus status, string? error, bool release, SagaEventKind kind, string? step = null, int attempt = 0, TimeSpan? duration = null, string? detail = null)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await WriteAsync(status, error, release, NewEvent(kind, step, attempt, duration, detail)).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes a checkpoint; the caller holds the gate. Data that cannot be saved suspends the saga with its last saved data.</summary>
    private async Task WriteAsync(SagaStatus status, string? error, bool release, params SagaEvent[] events)
    {
        if (_suspended)
        {
            // Another branch suspended the saga and gave its lease up: this outcome is not written.
            throw new SagaHaltedException("The saga was suspended.");
        }

        string data;
        try
        {
            data = _serializer.Serialize(_data);
        }
        catch (SagaDataException exception)
        {
            await SuspendAsync(exception.Message, events).ConfigureAwait(false);
            throw new SagaHaltedException(exception.Message, exception);
        }

        SagaCheckpoint checkpoint = new()
        {
            SagaId = SagaId,
            LeaseOwner = Runtime.CoordinatorId,
            LeaseToken = LeaseToken,
            Status = status,
            Data = data,
            Progress = _progress.Serialize(),
            Error = error,
            UpdatedAt = Runtime.Time.GetUtcNow(),
            Events = events,
            ReleaseLease = release,
        };
        long started = Runtime.Time.GetTimestamp();
        bool written = await Runtime.Store.CheckpointAsync(checkpoint, Abort.Token).ConfigureAwait(false);
        Runtime.Telemetry.Checkpoint(Name, Runtime.Time.GetElapsedTime(started));
        if (!written)
        {
            await Abort.CancelAsync().ConfigureAwait(false);
            throw new SagaHaltedException("The lease was lost.") { LeaseLost = true };
        }

        _status = status;
        _error = error;
        _savedData = data;
        _savedProgress = checkpoint.Progress;
    }

    private async Task SuspendAsync(string reason, SagaEvent[] unwritten)
    {
        // The saga parks with its last saved data and progress; the lines that were not written are dropped.
        _progress.LastSequence -= unwritten.Length;
        bool written = await SagaSuspension.SuspendAsync(Runtime, Record, _savedData, _savedProgress, reason, Abort.Token).ConfigureAwait(false);
        _suspended = true;
        await Abort.CancelAsync().ConfigureAwait(false);
        if (!written)
        {
            throw new SagaHaltedException("The lease was lost.") { LeaseLost = true };
        }
    }

    private SagaEvent NewEvent(SagaEventKind kind, string? step, int attempt, TimeSpan? duration, string? detail) => new()
    {
        Sequence = ++_progress.LastSequence,
        Kind = kind,
        Step = step,
        Attempt = attempt,
        At = Runtime.Time.GetUtcNow(),
        Duration = duration,
        Detail = detail,
        LeaseToken = LeaseToken,
    };

    /// <summary>Whether every step of the definition has completed (the caller holds the gate).</summary>
    private bool AllStepsCompleted()
    {
        foreach (SagaStage<TData> stage in _blueprint.Stages)
        {
            foreach (SagaStepDefinition<TData> step in stage.Steps)
            {
                if (_progress.Find(step.Name)?.Status != SagaStepStatus.Completed)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private bool DeadlinePassed() => DeadlinePassed(_progress.DeadlineAt);

    private bool DeadlinePassed(DateTimeOffset? deadline) => deadline <= Runtime.Time.GetUtcNow();

    private CancellationTokenSource Timer(TimeSpan? due) => due switch
    {
        null => new CancellationTokenSource(),
        { } time when time > LongestTimer => new CancellationTokenSource(),
        { } time => new CancellationTokenSource(time < TimeSpan.Zero ? TimeSpan.Zero : time, Runtime.Time),
    };

    private TimeSpan? Earliest(TimeSpan? timeout, DateTimeOffset? stepEnds)
    {
        TimeSpan? remaining = stepEnds - Runtime.Time.GetUtcNow();
        return timeout is null ? remaining : remaining is null ? timeout : timeout < remaining ? timeout : remaining;
    }

    internal static string Describe(Exception error) => $"{error.GetType().Name}: {error.Message}";
}
