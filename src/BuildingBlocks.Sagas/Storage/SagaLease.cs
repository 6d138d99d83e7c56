namespace BuildingBlocks.Sagas;

/// <summary>A lease a coordinator holds: the saga and the fencing token it acquired it with.</summary>
/// <param name="SagaId">The saga id.</param>
/// <param name="LeaseToken">The fencing token.</param>
public readonly record struct SagaLease(string SagaId, long LeaseToken);
