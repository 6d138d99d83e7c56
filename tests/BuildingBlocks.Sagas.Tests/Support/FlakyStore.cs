namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>An in-memory store whose calls can be made to throw, as a database outage would.</summary>
public sealed class FlakyStore(ISagaStore inner) : ISagaStore
{
    private int _failCheckpoints;
    private int _failAcquires;

    /// <summary>Makes the next <paramref name="count"/> checkpoints throw (nothing written).</summary>
    public void FailCheckpoints(int count) => Volatile.Write(ref _failCheckpoints, count);

    /// <summary>Makes the next <paramref name="count"/> acquisitions throw.</summary>
    public void FailAcquires(int count) => Volatile.Write(ref _failAcquires, count);

    private static bool Take(ref int counter)
    {
        while (true)
        {
            int left = Volatile.Read(ref counter);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    public ValueTask<bool> CheckpointAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken) =>
        Take(ref _failCheckpoints)
            ? ValueTask.FromException<bool>(new InvalidOperationException("database unavailable (checkpoint)"))
            : inner.CheckpointAsync(checkpoint, cancellationToken);

    public ValueTask<IReadOnlyList<SagaRecord>> AcquireAsync(string owner, IReadOnlyCollection<string> names, int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        Take(ref _failAcquires)
            ? ValueTask.FromException<IReadOnlyList<SagaRecord>>(new InvalidOperationException("database unavailable (acquire)"))
            : inner.AcquireAsync(owner, names, maxCount, leaseDuration, cancellationToken);

    public ValueTask<bool> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent> events, CancellationToken cancellationToken) => inner.CreateAsync(saga, events, cancellationToken);

    public ValueTask<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        inner.RenewLeasesAsync(owner, leases, leaseDuration, cancellationToken);

    public ValueTask ReleaseLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, CancellationToken cancellationToken) => inner.ReleaseLeasesAsync(owner, leases, cancellationToken);

    public ValueTask<SagaRecord?> GetAsync(string sagaId, CancellationToken cancellationToken) => inner.GetAsync(sagaId, cancellationToken);

    public ValueTask<IReadOnlyList<SagaEvent>> GetEventsAsync(string sagaId, CancellationToken cancellationToken) => inner.GetEventsAsync(sagaId, cancellationToken);

    public ValueTask<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

    public ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken) => inner.CountByStatusAsync(cancellationToken);

    public ValueTask<bool> TransitionAsync(SagaTransition transition, CancellationToken cancellationToken) => inner.TransitionAsync(transition, cancellationToken);
}
