using System.Text.Json;

namespace BuildingBlocks.Sagas;

/// <summary>The client and operator API over the store, the registry and this process's coordinator.</summary>
internal sealed class SagaClient : ISagaClient, ISagaOperator
{
    private const int MaxIdLength = 200;
    private static readonly SagaStatus[] ParkedStatuses = [SagaStatus.CompensationFailed, SagaStatus.Suspended];

    private readonly SagaRuntime _runtime;
    private readonly SagaRegistry _registry;
    private readonly SagaCoordinator _coordinator;

    public SagaClient(SagaRuntime runtime, SagaRegistry registry, SagaCoordinator coordinator)
    {
        _runtime = runtime;
        _registry = registry;
        _coordinator = coordinator;
    }

    public async ValueTask<string> StartAsync<TData>(TData data, SagaStartOptions? options = null, CancellationToken cancellationToken = default)
        where TData : class
    {
        ArgumentNullException.ThrowIfNull(data);
        SagaBlueprint blueprint = options?.SagaName is { } name ? _registry.Latest(name) : _registry.ForData(typeof(TData));
        if (!blueprint.DataType.IsAssignableFrom(typeof(TData)))
        {
            throw new ArgumentException($"Saga '{blueprint.Name}' takes data of type {blueprint.DataType.FullName}, not {typeof(TData).FullName}.", nameof(data));
        }

        string id = options?.SagaId ?? Guid.CreateVersion7().ToString();
        ValidateId(id);
        string json = blueprint.SerializeStartData(_runtime, data);
        DateTimeOffset now = _runtime.Time.GetUtcNow();
        SagaProgress progress = new() { Shape = blueprint.Shape, LastSequence = 1, DeadlineAt = blueprint.Deadline is { } deadline ? now + deadline : null };
        bool local = _coordinator.TryReserve();
        SagaRecord saga = new()
        {
            Id = id,
            Name = blueprint.Name,
            Version = blueprint.Version,
            Status = SagaStatus.Running,
            Data = json,
            Progress = progress.Serialize(),
            CreatedAt = now,
            UpdatedAt = now,
            LeaseOwner = local ? _runtime.CoordinatorId : null,
            LeaseToken = local ? 1 : 0,
            LeaseExpiresAt = local ? now + _runtime.Options.LeaseDuration : null,
        };
        bool created;
        try
        {
            created = await _runtime.Store.CreateAsync(saga, [new SagaEvent { Sequence = 1, Kind = SagaEventKind.Started, At = now, LeaseToken = saga.LeaseToken }], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (local)
            {
                _coordinator.Unreserve();
            }

            throw;
        }

        if (!created)
        {
            if (local)
            {
                _coordinator.Unreserve();
            }

            return id;
        }

        _runtime.Telemetry.Started(blueprint.Name);
        if (local)
        {
            _coordinator.Launch(saga);
        }
        else
        {
            _coordinator.NotifyWaiting();
        }

        return id;
    }

    public async ValueTask<SagaSnapshot?> GetAsync(string sagaId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        SagaRecord? saga = await _runtime.Store.GetAsync(sagaId, cancellationToken).ConfigureAwait(false);
        return saga is null ? null : Snapshot(saga);
    }

    public async ValueTask<TData?> GetDataAsync<TData>(string sagaId, CancellationToken cancellationToken = default)
        where TData : class
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        SagaRecord? saga = await _runtime.Store.GetAsync(sagaId, cancellationToken).ConfigureAwait(false);
        return saga is null ? null : _runtime.Serializer<TData>().Deserialize(saga.Data);
    }

    public ValueTask<IReadOnlyList<SagaEvent>> GetHistoryAsync(string sagaId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        return _runtime.Store.GetEventsAsync(sagaId, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<SagaSnapshot>> ListAsync(SagaQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, 1000, nameof(query));
        IReadOnlyList<SagaRecord> sagas = await _runtime.Store.QueryAsync(query, cancellationToken).ConfigureAwait(false);
        return [.. sagas.Select(Snapshot)];
    }

    public async ValueTask<SagaSnapshot> WaitForEndAsync(string sagaId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        TaskCompletionSource ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnEnded(string id, SagaStatus? status)
        {
            if (id == sagaId)
            {
                ended.TrySetResult();
            }
        }

        _coordinator.SagaEnded += OnEnded;
        try
        {
            TimeSpan interval = TimeSpan.FromMilliseconds(20);
            while (true)
            {
                SagaSnapshot saga = await GetAsync(sagaId, cancellationToken).ConfigureAwait(false)
                    ?? throw new SagaNotFoundException($"No saga has id '{sagaId}'.");
                if (saga.IsFinished || saga.IsParked)
                {
                    return saga;
                }

                // Real time: the saga may run on another host whatever clock this one uses.
                await Task.WhenAny(ended.Task, Task.Delay(interval, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (ended.Task.IsCompleted)
                {
                    ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks));
            }
        }
        finally
        {
            _coordinator.SagaEnded -= OnEnded;
        }
    }

    public async ValueTask<string> GetPathDiagramAsync(string sagaId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        SagaRecord saga = await _runtime.Store.GetAsync(sagaId, cancellationToken).ConfigureAwait(false)
            ?? throw new SagaNotFoundException($"No saga has id '{sagaId}'.");
        IReadOnlyList<SagaEvent> events = await _runtime.Store.GetEventsAsync(sagaId, cancellationToken).ConfigureAwait(false);
        return SagaMermaid.Path(saga, events);
    }

    public string GetDefinitionDiagram(string sagaName, int? version = null)
    {
        ArgumentNullException.ThrowIfNull(sagaName);
        SagaBlueprint blueprint = version is { } v
            ? _registry.Find(sagaName, v) ?? throw new SagaNotFoundException($"Saga '{sagaName}' version {v} is not registered.")
            : _registry.Latest(sagaName);
        return SagaMermaid.Definition(blueprint);
    }

    public async ValueTask<IReadOnlyList<SagaSnapshot>> ListParkedAsync(int limit = 100, string? afterId = null, CancellationToken cancellationToken = default) =>
        await ListAsync(new SagaQuery { Statuses = ParkedStatuses, Limit = limit, AfterId = afterId }, cancellationToken).ConfigureAwait(false);

    public ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken = default) =>
        _runtime.Store.CountByStatusAsync(cancellationToken);

    public async ValueTask RetryAsync(string sagaId, string? note = null, CancellationToken cancellationToken = default)
    {
        SagaRecord saga = await ParkedAsync(sagaId, "retried", cancellationToken).ConfigureAwait(false);
        SagaStatus next = SagaStatus.Running;
        string? progressText = null;
        try
        {
            SagaProgress progress = SagaProgress.Deserialize(saga.Progress);
            next = progress.Compensating ? SagaStatus.Compensating : SagaStatus.Running;
            foreach (SagaProgress.StepProgress step in progress.Steps.Where(s => s.Status == SagaStepStatus.CompensationFailed))
            {
                step.CompensationAttempts = 0;
            }

            progressText = progress.Serialize();
        }
        catch (JsonException)
        {
            // Unreadable progress stays as it is; the coordinator suspends the saga again and says why.
        }

        await TransitionAsync(saga, next, progressText, SagaEventKind.Retried, note ?? "retried by an operator", error: saga.Error, cancellationToken).ConfigureAwait(false);
        _coordinator.NotifyWaiting();
    }

    public async ValueTask ResolveAsync(string sagaId, string note, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(note);
        SagaRecord saga = await ParkedAsync(sagaId, "resolved", cancellationToken).ConfigureAwait(false);
        await TransitionAsync(saga, SagaStatus.Resolved, null, SagaEventKind.Resolved, note, saga.Error, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<SagaRecord> ParkedAsync(string sagaId, string action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        SagaRecord saga = await _runtime.Store.GetAsync(sagaId, cancellationToken).ConfigureAwait(false)
            ?? throw new SagaNotFoundException($"No saga has id '{sagaId}'.");
        if (saga.Status is not (SagaStatus.CompensationFailed or SagaStatus.Suspended))
        {
            throw new InvalidOperationException($"Saga '{sagaId}' is {saga.Status}, not parked: only CompensationFailed and Suspended sagas can be {action}.");
        }

        return saga;
    }

    private async ValueTask TransitionAsync(SagaRecord saga, SagaStatus next, string? progressText, SagaEventKind kind, string note, string? error, CancellationToken cancellationToken)
    {
        IReadOnlyList<SagaEvent> events = await _runtime.Store.GetEventsAsync(saga.Id, cancellationToken).ConfigureAwait(false);
        long sequence = events.Count == 0 ? 1 : events[^1].Sequence + 1;
        if (progressText is not null)
        {
            SagaProgress progress = SagaProgress.Deserialize(progressText);
            progress.LastSequence = sequence;
            progressText = progress.Serialize();
        }
        else if (TryReadProgress(saga.Progress) is { } stored)
        {
            stored.LastSequence = sequence;
            progressText = stored.Serialize();
        }

        DateTimeOffset now = _runtime.Time.GetUtcNow();
        bool applied = await _runtime.Store.TransitionAsync(
            new SagaTransition
            {
                SagaId = saga.Id,
                ExpectedStatus = saga.Status,
                Status = next,
                Progress = progressText,
                Error = error,
                UpdatedAt = now,
                Events = [new SagaEvent { Sequence = sequence, Kind = kind, At = now, Detail = note }],
            },
            cancellationToken).ConfigureAwait(false);
        if (!applied)
        {
            throw new InvalidOperationException($"Saga '{saga.Id}' changed while it was being {kind.ToString().ToLowerInvariant()} (another operator, or a coordinator still holding it): read it again and retry.");
        }

        Log.OperatorAction(_runtime.Logger, saga.Id, kind, saga.Status, next, note);
    }

    private SagaSnapshot Snapshot(SagaRecord saga)
    {
        SagaProgress? progress = TryReadProgress(saga.Progress);
        List<SagaStepSnapshot> steps = [];
        if (progress is not null)
        {
            SagaBlueprint? blueprint = _registry.Find(saga.Name, saga.Version);
            IEnumerable<string> names = blueprint is null
                ? progress.Steps.Select(s => s.Name)
                : blueprint.Layout.SelectMany(stage => stage.Steps.Select(s => s.Step));
            foreach (string name in names)
            {
                SagaProgress.StepProgress? step = progress.Find(name);
                steps.Add(new SagaStepSnapshot(name, step?.Status ?? SagaStepStatus.Pending, step?.Attempts ?? 0, step?.CompensationAttempts ?? 0));
            }
        }

        return new SagaSnapshot
        {
            Id = saga.Id,
            Name = saga.Name,
            Version = saga.Version,
            Status = saga.Status,
            Error = saga.Error,
            CreatedAt = saga.CreatedAt,
            UpdatedAt = saga.UpdatedAt,
            DataJson = saga.Data,
            Steps = steps,
            LeaseOwner = saga.LeaseOwner,
            LeaseExpiresAt = saga.LeaseExpiresAt,
        };
    }

    private static SagaProgress? TryReadProgress(string text)
    {
        try
        {
            return SagaProgress.Deserialize(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void ValidateId(string id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > MaxIdLength || id.Any(char.IsControl))
        {
            throw new ArgumentException($"SagaStartOptions.SagaId '{(id.Length > 40 ? id[..40] + "…" : id)}' is invalid: it must be 1 to {MaxIdLength} characters without control characters.", nameof(id));
        }
    }
}
