namespace BuildingBlocks.Sagas;

/// <summary>Names of the meter, activity source, instruments and tags this package emits.</summary>
public static class SagasDiagnostics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry.</summary>
    public const string MeterName = "BuildingBlocks.Sagas";

    /// <summary>The activity source name, for <c>AddSource</c> in OpenTelemetry.</summary>
    public const string ActivitySourceName = "BuildingBlocks.Sagas";

    /// <summary>Counter of sagas started ({saga}); an idempotent start of an existing id is not counted.</summary>
    public const string StartedInstrument = "buildingblocks.sagas.started";

    /// <summary>Counter of sagas whose steps all completed ({saga}).</summary>
    public const string CompletedInstrument = "buildingblocks.sagas.completed";

    /// <summary>Counter of sagas that finished compensating ({saga}).</summary>
    public const string CompensatedInstrument = "buildingblocks.sagas.compensated";

    /// <summary>Counter of sagas parked ({saga}): compensation failed past its retries, or suspended.</summary>
    public const string ParkedInstrument = "buildingblocks.sagas.parked";

    /// <summary>Histogram of step attempt time (s), tagged with the direction and outcome.</summary>
    public const string StepDurationInstrument = "buildingblocks.sagas.step.duration";

    /// <summary>Histogram of checkpoint write time (s): the store's durable commit of a step's outcome.</summary>
    public const string CheckpointDurationInstrument = "buildingblocks.sagas.checkpoint.duration";

    /// <summary>Counter of leases lost ({lease}): a write refused or a renewal that found another coordinator owning the saga.</summary>
    public const string LeaseLostInstrument = "buildingblocks.sagas.leases.lost";

    /// <summary>Tag: the saga definition name.</summary>
    public const string SagaTag = "buildingblocks.sagas.saga";

    /// <summary>Tag: the step name.</summary>
    public const string StepTag = "buildingblocks.sagas.step";

    /// <summary>Tag: forward or compensation.</summary>
    public const string DirectionTag = "buildingblocks.sagas.direction";

    /// <summary>
    /// Tag: how an attempt ended (completed, failed, timeout, deadline, stopped); why a saga parked (compensation_failed,
    /// suspended); on a saga span, how the run ended (the status name, stopped, lease_lost, suspended).
    /// </summary>
    public const string OutcomeTag = "buildingblocks.sagas.outcome";

    /// <summary>Tag on spans: the saga id.</summary>
    public const string SagaIdTag = "buildingblocks.sagas.saga.id";

    /// <summary>Tag on spans: the definition version the saga is pinned to.</summary>
    public const string VersionTag = "buildingblocks.sagas.saga.version";

    /// <summary>Tag on spans: the attempt number.</summary>
    public const string AttemptTag = "buildingblocks.sagas.step.attempt";

    /// <summary>Tag on spans: the lease (fencing) token the coordinator holds the saga with.</summary>
    public const string LeaseTokenTag = "buildingblocks.sagas.lease.token";
}
