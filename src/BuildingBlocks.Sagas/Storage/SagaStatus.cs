namespace BuildingBlocks.Sagas;

/// <summary>Where a saga is in its life. See docs/sagas.md for the state machine.</summary>
public enum SagaStatus
{
    /// <summary>Running its steps forward.</summary>
    Running = 0,

    /// <summary>A step failed for good (or the deadline passed): undoing the completed steps in reverse order.</summary>
    Compensating = 1,

    /// <summary>Every step completed. Final.</summary>
    Completed = 2,

    /// <summary>Every completed step was compensated. Final.</summary>
    Compensated = 3,

    /// <summary>A compensation failed past its retry limit: parked until an operator retries or resolves it.</summary>
    CompensationFailed = 4,

    /// <summary>The coordinator cannot go on (unknown definition version, unreadable data): parked until an operator retries or resolves it.</summary>
    Suspended = 5,

    /// <summary>An operator ended a parked saga by hand. Final.</summary>
    Resolved = 6,
}
