namespace BuildingBlocks.Sagas;

/// <summary>
/// What an operator does with sagas that wait for a person: list them, retry them after fixing the cause, or resolve
/// them by hand. Every action is recorded in the saga's history. Registered by <c>AddSagas</c>.
/// </summary>
public interface ISagaOperator
{
    /// <summary>Lists parked sagas (<see cref="SagaStatus.CompensationFailed"/>, <see cref="SagaStatus.Suspended"/>), a page at a time by id.</summary>
    /// <param name="limit">At most this many (1–1,000).</param>
    /// <param name="afterId">The last id of the previous page, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The parked sagas with their errors.</returns>
    ValueTask<IReadOnlyList<SagaSnapshot>> ListParkedAsync(int limit = 100, string? afterId = null, CancellationToken cancellationToken = default);

    /// <summary>Counts sagas by status (for dashboards and alerts on parked sagas).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The count per status.</returns>
    ValueTask<IReadOnlyDictionary<SagaStatus, long>> CountByStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts a parked saga back to work: a <see cref="SagaStatus.CompensationFailed"/> saga compensates again from the step
    /// that failed (with a fresh retry budget); a <see cref="SagaStatus.Suspended"/> saga goes on where it stopped (after
    /// the cause was fixed: its definition version registered, its data repaired).
    /// </summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="note">Why, for the history.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the saga is active again.</returns>
    /// <exception cref="SagaNotFoundException">No saga has this id.</exception>
    /// <exception cref="InvalidOperationException">The saga is not parked.</exception>
    ValueTask RetryAsync(string sagaId, string? note = null, CancellationToken cancellationToken = default);

    /// <summary>Ends a parked saga by hand (someone undid the rest manually): it becomes <see cref="SagaStatus.Resolved"/> and never runs again.</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="note">What was done, for the history (required).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the saga is resolved.</returns>
    /// <exception cref="SagaNotFoundException">No saga has this id.</exception>
    /// <exception cref="InvalidOperationException">The saga is not parked.</exception>
    ValueTask ResolveAsync(string sagaId, string note, CancellationToken cancellationToken = default);
}
