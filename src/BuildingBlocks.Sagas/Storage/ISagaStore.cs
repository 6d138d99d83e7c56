namespace BuildingBlocks.Sagas;

/// <summary>
/// Where sagas live. Implementations: <see cref="InMemorySagaStore"/> (this package), SQLite and PostgreSQL (their own
/// packages); every implementation passes the same conformance suite. The rules every store keeps:
/// <list type="bullet">
/// <item>Each call is atomic: the row change and its history lines are stored together or not at all.</item>
/// <item>Lease holders write with <see cref="CheckpointAsync"/>, which applies only while the presented owner and token
/// still hold the saga (fencing): once another coordinator acquired it (token raised), the old holder's writes are refused.
/// A lease that expired but that no one acquired since still counts as held (its holder's writes and renewals apply).</item>
/// <item><see cref="AcquireAsync"/> leases active sagas (<see cref="SagaStatus.Running"/>, <see cref="SagaStatus.Compensating"/>)
/// that no one holds or whose lease expired, raising the token by one.</item>
/// <item>History lines are appended in the given order and returned in <see cref="SagaEvent.Sequence"/> order.</item>
/// <item>Times for lease expiry come from the store's <see cref="TimeProvider"/>; other times are stored as given.</item>
/// </list>
/// </summary>
public interface ISagaStore
{
    /// <summary>Stores a new saga and its first history lines.</summary>
    /// <param name="saga">The saga; when <see cref="SagaRecord.LeaseOwner"/> is set the creator holds its lease with <see cref="SagaRecord.LeaseToken"/> until <see cref="SagaRecord.LeaseExpiresAt"/>.</param>
    /// <param name="events">The first history lines.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when a saga with this id exists (nothing changed).</returns>
    ValueTask<bool> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent> events, CancellationToken cancellationToken);

    /// <summary>Writes a lease holder's progress (row and history lines) in one transaction.</summary>
    /// <param name="checkpoint">The progress.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the owner no longer holds the saga with that token (nothing changed).</returns>
    ValueTask<bool> CheckpointAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <paramref name="maxCount"/> active sagas of the given definition names that are not leased or whose
    /// lease expired, oldest update first: owner set, token raised by one, expiry = now + <paramref name="leaseDuration"/>.
    /// </summary>
    /// <param name="owner">The acquiring coordinator.</param>
    /// <param name="names">The definition names the coordinator runs (others are left to coordinators that know them).</param>
    /// <param name="maxCount">The most sagas to lease (≥ 1).</param>
    /// <param name="leaseDuration">The lease length.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The leased sagas as they are now (with the new token).</returns>
    ValueTask<IReadOnlyList<SagaRecord>> AcquireAsync(string owner, IReadOnlyCollection<string> names, int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Extends to now + <paramref name="leaseDuration"/> every given lease the owner still holds with its token.</summary>
    /// <param name="owner">The coordinator.</param>
    /// <param name="leases">The leases.</param>
    /// <param name="leaseDuration">The new lease length from now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ids of the given sagas the owner no longer holds (not renewed).</returns>
    ValueTask<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Gives leases up (graceful stop) so another coordinator can acquire the sagas at once. Leases no longer held are ignored.</summary>
    /// <param name="owner">The coordinator.</param>
    /// <param name="leases">The leases.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the leases are released.</returns>
    ValueTask ReleaseLeasesAsync(string owner, IReadOnlyList<SagaLease> leases, CancellationToken cancellationToken);

    /// <summary>Reads one saga.</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The saga, or <see langword="null"/> when unknown.</returns>
    ValueTask<SagaRecord?> GetAsync(string sagaId, CancellationToken cancellationToken);

    /// <summary>Reads a saga's history.</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lines in sequence order; empty when the saga is unknown.</returns>
    ValueTask<IReadOnlyList<SagaEvent>> GetEventsAsync(string sagaId, CancellationToken cancellationToken);

    /// <summary>Lists sagas matching <paramref name="query"/>, ordered by id (ordinal).</summary>
    /// <param name="query">The filters and page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>At most <see cref="SagaQuery.Limit"/> sagas.</returns>
    ValueTask<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query, CancellationToken cancellationToken);

    /// <summary>Counts sagas by status.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The count per status; statuses without sagas may be missing.</returns>
    ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Applies an operator change: only when the saga has <see cref="SagaTransition.ExpectedStatus"/> and no live lease
    /// (none, or expired). The lease, if any, is cleared.
    /// </summary>
    /// <param name="transition">The change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the saga is unknown, has another status or is leased (nothing changed).</returns>
    ValueTask<bool> TransitionAsync(SagaTransition transition, CancellationToken cancellationToken);
}
