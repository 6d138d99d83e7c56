using System.Globalization;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>
/// Wraps the chosen store and prints <c>REFUSED &lt;sagaId&gt; &lt;token&gt; &lt;kinds&gt;</c> for every checkpoint the
/// store refused (its lease was taken over), so a test sees a stale coordinator's writes being turned away. A checkpoint
/// runs to its end even when the coordinator cancels it (lease lost, shutdown): the answer is what the test looks at.
/// </summary>
internal sealed class ObservedSagaStore(ISagaStore inner, bool ownsInner) : ISagaStore, IAsyncDisposable
{
    public async ValueTask<bool> CheckpointAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        bool written = await inner.CheckpointAsync(checkpoint, CancellationToken.None).ConfigureAwait(false);
        if (!written)
        {
            string kinds = string.Join(',', checkpoint.Events.Select(e => e.Kind));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"REFUSED {checkpoint.SagaId} {checkpoint.LeaseToken} {(kinds.Length == 0 ? "-" : kinds)}"));
        }

        return written;
    }

    public ValueTask<bool> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent> events, CancellationToken cancellationToken) =>
        inner.CreateAsync(saga, events, cancellationToken);

    public ValueTask<IReadOnlyList<SagaRecord>> AcquireAsync(string owner, IReadOnlyCollection<string> names, int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        inner.AcquireAsync(owner, names, maxCount, leaseDuration, cancellationToken);

    public ValueTask<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        inner.RenewLeasesAsync(owner, leases, leaseDuration, cancellationToken);

    public ValueTask ReleaseLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, CancellationToken cancellationToken) =>
        inner.ReleaseLeasesAsync(owner, leases, cancellationToken);

    public ValueTask<SagaRecord?> GetAsync(string sagaId, CancellationToken cancellationToken) => inner.GetAsync(sagaId, cancellationToken);

    public ValueTask<IReadOnlyList<SagaEvent>> GetEventsAsync(string sagaId, CancellationToken cancellationToken) => inner.GetEventsAsync(sagaId, cancellationToken);

    public ValueTask<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

    public ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken) => inner.CountByStatusAsync(cancellationToken);

    public ValueTask<bool> TransitionAsync(SagaTransition transition, CancellationToken cancellationToken) => inner.TransitionAsync(transition, cancellationToken);

    public ValueTask DisposeAsync() => ownsInner && inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}
