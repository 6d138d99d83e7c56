namespace BuildingBlocks.Sagas;

/// <summary>
/// A store in process memory: for tests, samples and sagas that need not survive a restart. Thread-safe; one lock
/// keeps every call atomic.
/// </summary>
public sealed class InMemorySagaStore : ISagaStore
{
    private const int MaxIdLength = 200;
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, SagaRecord> _sagas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<SagaEvent>> _events = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates an empty store on the system clock.</summary>
    public InMemorySagaStore()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock for lease expiry.</param>
    public InMemorySagaStore(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <inheritdoc />
    public ValueTask<bool> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(saga);
        ArgumentNullException.ThrowIfNull(events);
        if (string.IsNullOrEmpty(saga.Id) || saga.Id.Length > MaxIdLength)
        {
            throw new ArgumentException($"A saga id must be 1 to {MaxIdLength} characters; got {saga.Id?.Length ?? 0}.", nameof(saga));
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_sagas.TryAdd(saga.Id, saga))
            {
                return ValueTask.FromResult(false);
            }

            _events[saga.Id] = [.. events];
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> CheckpointAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentException.ThrowIfNullOrEmpty(checkpoint.LeaseOwner, nameof(checkpoint));
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_sagas.TryGetValue(checkpoint.SagaId, out SagaRecord? saga) || !Holds(saga, checkpoint.LeaseOwner, checkpoint.LeaseToken))
            {
                return ValueTask.FromResult(false);
            }

            EnsureNewSequences(saga.Id, checkpoint.Events);

            _sagas[saga.Id] = saga with
            {
                Status = checkpoint.Status,
                Data = checkpoint.Data,
                Progress = checkpoint.Progress,
                Error = checkpoint.Error,
                UpdatedAt = checkpoint.UpdatedAt,
                LeaseOwner = checkpoint.ReleaseLease ? null : saga.LeaseOwner,
                LeaseExpiresAt = checkpoint.ReleaseLease ? null : saga.LeaseExpiresAt,
            };
            _events[saga.Id].AddRange(checkpoint.Events);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<SagaRecord>> AcquireAsync(string owner, IReadOnlyCollection<string> names, int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            DateTimeOffset now = _timeProvider.GetUtcNow();
            List<SagaRecord> acquired = [];
            foreach (SagaRecord saga in _sagas.Values
                .Where(s => s.Status is SagaStatus.Running or SagaStatus.Compensating && (s.LeaseOwner is null || s.LeaseExpiresAt <= now) && names.Contains(s.Name))
                .OrderBy(s => s.UpdatedAt)
                .ThenBy(s => s.Id, StringComparer.Ordinal)
                .Take(maxCount)
                .ToList())
            {
                SagaRecord leased = saga with { LeaseOwner = owner, LeaseToken = saga.LeaseToken + 1, LeaseExpiresAt = now + leaseDuration };
                _sagas[saga.Id] = leased;
                acquired.Add(leased);
            }

            return ValueTask.FromResult<IReadOnlyList<SagaRecord>>(acquired);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(leases);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            DateTimeOffset now = _timeProvider.GetUtcNow();
            List<string> lost = [];
            foreach (SagaLease lease in leases)
            {
                if (_sagas.TryGetValue(lease.SagaId, out SagaRecord? saga) && Holds(saga, owner, lease.LeaseToken))
                {
                    _sagas[saga.Id] = saga with { LeaseExpiresAt = now + leaseDuration };
                }
                else
                {
                    lost.Add(lease.SagaId);
                }
            }

            return ValueTask.FromResult<IReadOnlyList<string>>(lost);
        }
    }

    /// <inheritdoc />
    public ValueTask ReleaseLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(leases);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            foreach (SagaLease lease in leases)
            {
                if (_sagas.TryGetValue(lease.SagaId, out SagaRecord? saga) && Holds(saga, owner, lease.LeaseToken))
                {
                    _sagas[saga.Id] = saga with { LeaseOwner = null, LeaseExpiresAt = null };
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<SagaRecord?> GetAsync(string sagaId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(_sagas.GetValueOrDefault(sagaId));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<SagaEvent>> GetEventsAsync(string sagaId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<SagaEvent> events = _events.TryGetValue(sagaId, out List<SagaEvent>? list) ? [.. list.OrderBy(e => e.Sequence)] : [];
            return ValueTask.FromResult(events);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, "SagaQuery.Limit must be between 1 and 1000.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IEnumerable<SagaRecord> sagas = _sagas.Values;
            if (query.AfterId is not null)
            {
                sagas = sagas.Where(s => string.CompareOrdinal(s.Id, query.AfterId) > 0);
            }

            if (query.Statuses is { Count: > 0 } statuses)
            {
                sagas = sagas.Where(s => statuses.Contains(s.Status));
            }

            if (query.Name is not null)
            {
                sagas = sagas.Where(s => s.Name == query.Name);
            }

            return ValueTask.FromResult<IReadOnlyList<SagaRecord>>([.. sagas.Take(query.Limit)]);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyDictionary<SagaStatus, long> counts = _sagas.Values.GroupBy(s => s.Status).ToDictionary(g => g.Key, g => (long)g.Count());
            return ValueTask.FromResult(counts);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> TransitionAsync(SagaTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            DateTimeOffset now = _timeProvider.GetUtcNow();
            if (!_sagas.TryGetValue(transition.SagaId, out SagaRecord? saga)
                || saga.Status != transition.ExpectedStatus
                || (saga.LeaseOwner is not null && saga.LeaseExpiresAt > now))
            {
                return ValueTask.FromResult(false);
            }

            EnsureNewSequences(saga.Id, transition.Events);
            _sagas[saga.Id] = saga with
            {
                Status = transition.Status,
                Progress = transition.Progress ?? saga.Progress,
                Error = transition.Error,
                UpdatedAt = transition.UpdatedAt,
                LeaseOwner = null,
                LeaseExpiresAt = null,
            };
            _events[saga.Id].AddRange(transition.Events);
            return ValueTask.FromResult(true);
        }
    }

    /// <summary>Refuses history lines whose numbers exist (as the SQL stores' primary keys do), before anything changes.</summary>
    private void EnsureNewSequences(string sagaId, IReadOnlyList<SagaEvent> events)
    {
        List<SagaEvent> stored = _events[sagaId];
        HashSet<long> seen = [.. stored.Select(e => e.Sequence)];
        foreach (SagaEvent line in events)
        {
            if (!seen.Add(line.Sequence))
            {
                throw new InvalidOperationException($"Saga '{sagaId}' already has history line {line.Sequence}; nothing was written.");
            }
        }
    }

    private static bool Holds(SagaRecord saga, string owner, long token) =>
        saga.LeaseOwner == owner && saga.LeaseToken == token;
}
