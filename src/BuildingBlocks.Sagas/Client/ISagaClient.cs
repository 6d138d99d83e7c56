namespace BuildingBlocks.Sagas;

/// <summary>Starts sagas and reads their state and history. Registered by <c>AddSagas</c>.</summary>
public interface ISagaClient
{
    /// <summary>
    /// Starts a saga of the definition that takes <typeparamref name="TData"/>: the data is checked (serializes, reads back,
    /// within <see cref="SagaOptions.MaxDataBytes"/>) and stored, and the saga runs on this process's coordinator at once
    /// when it has a free slot, otherwise on the next coordinator that polls.
    /// </summary>
    /// <typeparam name="TData">The saga data type.</typeparam>
    /// <param name="data">The data.</param>
    /// <param name="options">The id (for idempotent starts) and definition name, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The saga id (for an existing id: that id, nothing started).</returns>
    /// <exception cref="SagaDataException">The data cannot be stored.</exception>
    /// <exception cref="SagaNotFoundException">No definition takes <typeparamref name="TData"/> (or has the given name).</exception>
    ValueTask<string> StartAsync<TData>(TData data, SagaStartOptions? options = null, CancellationToken cancellationToken = default)
        where TData : class;

    /// <summary>Reads a saga's state.</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state, or <see langword="null"/> when no saga has this id.</returns>
    ValueTask<SagaSnapshot?> GetAsync(string sagaId, CancellationToken cancellationToken = default);

    /// <summary>Reads a saga's data as last checkpointed.</summary>
    /// <typeparam name="TData">The saga data type.</typeparam>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The data, or <see langword="null"/> when no saga has this id.</returns>
    ValueTask<TData?> GetDataAsync<TData>(string sagaId, CancellationToken cancellationToken = default)
        where TData : class;

    /// <summary>Reads a saga's history: every step outcome, attempt failure, status change and operator action, in order.</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lines; empty when no saga has this id.</returns>
    ValueTask<IReadOnlyList<SagaEvent>> GetHistoryAsync(string sagaId, CancellationToken cancellationToken = default);

    /// <summary>Lists sagas by status and definition, a page at a time (by id).</summary>
    /// <param name="query">The filters and page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The sagas.</returns>
    ValueTask<IReadOnlyList<SagaSnapshot>> ListAsync(SagaQuery query, CancellationToken cancellationToken = default);

    /// <summary>Waits until a saga is finished or parked (polls the store; a saga run by this process wakes it at once).</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The saga's final or parked state.</returns>
    /// <exception cref="SagaNotFoundException">No saga has this id.</exception>
    ValueTask<SagaSnapshot> WaitForEndAsync(string sagaId, CancellationToken cancellationToken = default);

    /// <summary>The path one saga actually took (steps, retries, failures, compensations) as a Mermaid flowchart.</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The diagram text.</returns>
    /// <exception cref="SagaNotFoundException">No saga has this id.</exception>
    ValueTask<string> GetPathDiagramAsync(string sagaId, CancellationToken cancellationToken = default);

    /// <summary>A registered definition (latest version unless given) as a Mermaid flowchart.</summary>
    /// <param name="sagaName">The definition name.</param>
    /// <param name="version">The version, or <see langword="null"/> for the latest.</param>
    /// <returns>The diagram text.</returns>
    /// <exception cref="SagaNotFoundException">No such definition is registered.</exception>
    string GetDefinitionDiagram(string sagaName, int? version = null);
}
