namespace BuildingBlocks.Sagas;

/// <summary>What a step's action or compensation gets for one attempt.</summary>
/// <typeparam name="TData">The saga data type.</typeparam>
public sealed class SagaStepContext<TData>
    where TData : class
{
    internal SagaStepContext(string sagaId, string sagaName, string stepName, SagaDirection direction, int attempt, TData data, IServiceProvider services)
    {
        SagaId = sagaId;
        SagaName = sagaName;
        StepName = stepName;
        Direction = direction;
        Attempt = attempt;
        Data = data;
        Services = services;
        IdempotencyKey = SagaIdempotencyKey.For(sagaId, stepName, direction);
    }

    /// <summary>The saga id.</summary>
    public string SagaId { get; }

    /// <summary>The definition name.</summary>
    public string SagaName { get; }

    /// <summary>The step name.</summary>
    public string StepName { get; }

    /// <summary>Action or compensation.</summary>
    public SagaDirection Direction { get; }

    /// <summary>The attempt number, from 1; it continues across restarts.</summary>
    public int Attempt { get; }

    /// <summary>
    /// The key to pass to the service the step calls so a repeated attempt takes effect once: the same for every attempt of
    /// this step in this direction, across retries, restarts and coordinators (<c>{sagaId}/{step}/{forward|compensation}</c>).
    /// </summary>
    public string IdempotencyKey { get; }

    /// <summary>
    /// The saga data. Changes made by an action are saved with the step's completion and seen by later steps and by
    /// compensations. Branches of a parallel group share it on different threads: each branch should write its own
    /// properties, and a collection several branches change must be thread-safe.
    /// </summary>
    public TData Data { get; }

    /// <summary>Services from a scope created for this attempt (disposed when it ends).</summary>
    public IServiceProvider Services { get; }
}
