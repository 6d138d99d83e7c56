using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Sagas;

/// <summary>Log messages; event ids are stable and listed in docs/diagnostics.md.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, EventName = "CoordinatorStarted", Level = LogLevel.Information,
        Message = "Saga coordinator {CoordinatorId} started on {Store}: {Count} definitions ({Names}).")]
    public static partial void CoordinatorStarted(ILogger logger, string coordinatorId, string store, int count, IReadOnlyCollection<string> names);

    [LoggerMessage(EventId = 4001, EventName = "StepAttemptFailed", Level = LogLevel.Warning,
        Message = "Saga {SagaId} ('{Saga}'): {Direction} of step '{Step}' failed on attempt {Attempt} of {MaxAttempts}; retrying in {Delay}.")]
    public static partial void StepAttemptFailed(ILogger logger, Exception exception, string sagaId, string saga, SagaDirection direction, string step, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = 4002, EventName = "StepFailed", Level = LogLevel.Warning,
        Message = "Saga {SagaId} ('{Saga}'): step '{Step}' failed for good on attempt {Attempt}; compensating the completed steps.")]
    public static partial void StepFailed(ILogger logger, Exception exception, string sagaId, string saga, string step, int attempt);

    [LoggerMessage(EventId = 4003, EventName = "CompensationFailed", Level = LogLevel.Error,
        Message = "Saga {SagaId} ('{Saga}'): the compensation of step '{Step}' failed on its last attempt ({Attempt}); the saga is parked as CompensationFailed for an operator.")]
    public static partial void CompensationFailed(ILogger logger, Exception exception, string sagaId, string saga, string step, int attempt);

    [LoggerMessage(EventId = 4004, EventName = "SagaSuspended", Level = LogLevel.Error,
        Message = "Saga {SagaId} ('{Saga}' version {Version}) is suspended for an operator: {Reason}")]
    public static partial void SagaSuspended(ILogger logger, string sagaId, string saga, int version, string reason);

    [LoggerMessage(EventId = 4005, EventName = "LeaseLost", Level = LogLevel.Warning,
        Message = "Saga {SagaId} ('{Saga}'): the lease (token {LeaseToken}) was lost to another coordinator; this coordinator stopped running it and its last step's result was not written.")]
    public static partial void LeaseLost(ILogger logger, string sagaId, string saga, long leaseToken);

    [LoggerMessage(EventId = 4006, EventName = "StoreCallFailed", Level = LogLevel.Error,
        Message = "Saga coordinator {CoordinatorId}: the store call '{Operation}' failed; retrying in {Delay}.")]
    public static partial void StoreCallFailed(ILogger logger, Exception exception, string coordinatorId, string operation, TimeSpan delay);

    [LoggerMessage(EventId = 4007, EventName = "CheckpointFailed", Level = LogLevel.Error,
        Message = "Saga {SagaId} ('{Saga}'): writing progress failed; this coordinator stopped running it and it resumes from its last checkpoint (the step may run again with the same idempotency key).")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, string sagaId, string saga);

    [LoggerMessage(EventId = 4008, EventName = "DeadlineExceeded", Level = LogLevel.Warning,
        Message = "Saga {SagaId} ('{Saga}'): the deadline {Deadline:O} passed before its steps completed; compensating.")]
    public static partial void DeadlineExceeded(ILogger logger, string sagaId, string saga, DateTimeOffset deadline);

    [LoggerMessage(EventId = 4009, EventName = "UnknownVersionSkipped", Level = LogLevel.Warning,
        Message = "Saga {SagaId} ('{Saga}') runs version {Version}, newer than this coordinator's definitions (up to {Latest}); it is left to a coordinator that has it.")]
    public static partial void UnknownVersionSkipped(ILogger logger, string sagaId, string saga, int version, int latest);

    [LoggerMessage(EventId = 4010, EventName = "ShutdownCanceledSteps", Level = LogLevel.Warning,
        Message = "Saga coordinator {CoordinatorId}: {Count} sagas still ran steps after {Timeout}; their steps were canceled and they resume from their last checkpoint.")]
    public static partial void ShutdownCanceledSteps(ILogger logger, string coordinatorId, int count, TimeSpan timeout);

    [LoggerMessage(EventId = 4011, EventName = "OperatorAction", Level = LogLevel.Information,
        Message = "Saga {SagaId}: operator {Action} ({From} → {To}): {Note}")]
    public static partial void OperatorAction(ILogger logger, string sagaId, SagaEventKind action, SagaStatus from, SagaStatus to, string note);
}
