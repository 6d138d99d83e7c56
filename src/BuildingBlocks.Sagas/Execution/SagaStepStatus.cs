namespace BuildingBlocks.Sagas;

/// <summary>Where one step of a saga is.</summary>
public enum SagaStepStatus
{
    /// <summary>Not completed yet (never run, or failed attempts that will be retried).</summary>
    Pending = 0,

    /// <summary>The action completed.</summary>
    Completed = 1,

    /// <summary>The action failed for good.</summary>
    Failed = 2,

    /// <summary>The compensation completed.</summary>
    Compensated = 3,

    /// <summary>The compensation failed past its retry limit.</summary>
    CompensationFailed = 4,
}
