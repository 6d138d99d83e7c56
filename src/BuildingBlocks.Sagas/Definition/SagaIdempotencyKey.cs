namespace BuildingBlocks.Sagas;

/// <summary>Builds the idempotency key a step attempt receives, for services and tests that need to compute it.</summary>
public static class SagaIdempotencyKey
{
    /// <summary>The key of <paramref name="step"/> of saga <paramref name="sagaId"/> in <paramref name="direction"/>.</summary>
    /// <param name="sagaId">The saga id.</param>
    /// <param name="step">The step name.</param>
    /// <param name="direction">Action or compensation.</param>
    /// <returns><c>{sagaId}/{step}/forward</c> or <c>{sagaId}/{step}/compensation</c>.</returns>
    public static string For(string sagaId, string step, SagaDirection direction)
    {
        ArgumentNullException.ThrowIfNull(sagaId);
        ArgumentNullException.ThrowIfNull(step);
        return string.Concat(sagaId, "/", step, direction == SagaDirection.Forward ? "/forward" : "/compensation");
    }
}
