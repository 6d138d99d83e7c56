namespace BuildingBlocks.Sagas;

/// <summary>What one line of a saga's history records.</summary>
public enum SagaEventKind
{
    /// <summary>The saga was started.</summary>
    Started = 0,

    /// <summary>A step's action completed; its changes to the data were saved with it.</summary>
    StepCompleted = 1,

    /// <summary>An attempt of a step's action failed and will be retried.</summary>
    StepAttemptFailed = 2,

    /// <summary>A step's action failed for good (non-retriable error, attempts or step time used up).</summary>
    StepFailed = 3,

    /// <summary>A step's compensation completed.</summary>
    CompensationCompleted = 4,

    /// <summary>An attempt of a compensation failed and will be retried.</summary>
    CompensationAttemptFailed = 5,

    /// <summary>A compensation failed past its retry limit; the saga is parked as <see cref="SagaStatus.CompensationFailed"/>.</summary>
    CompensationFailed = 6,

    /// <summary>The saga's deadline passed before its steps completed; compensation starts.</summary>
    DeadlineExceeded = 7,

    /// <summary>The saga completed.</summary>
    Completed = 8,

    /// <summary>The saga finished compensating.</summary>
    Compensated = 9,

    /// <summary>The coordinator could not go on; the saga is parked as <see cref="SagaStatus.Suspended"/>.</summary>
    Suspended = 10,

    /// <summary>An operator retried a parked saga.</summary>
    Retried = 11,

    /// <summary>An operator resolved a parked saga by hand.</summary>
    Resolved = 12,
}
