using System.Diagnostics;

namespace BuildingBlocks.TaskQueue;

/// <summary>Names of the meter, activity source, instruments and tags this package emits.</summary>
public static class TaskQueueDiagnostics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry.</summary>
    public const string MeterName = "BuildingBlocks.TaskQueue";

    /// <summary>The activity source name, for <c>AddSource</c> in OpenTelemetry.</summary>
    public const string ActivitySourceName = "BuildingBlocks.TaskQueue";

    /// <summary>Counter of tasks stored by enqueue ({task}); duplicates of a unique key are not counted.</summary>
    public const string EnqueuedInstrument = "buildingblocks.taskqueue.tasks.enqueued";

    /// <summary>Counter of claims ({task}).</summary>
    public const string ClaimedInstrument = "buildingblocks.taskqueue.tasks.claimed";

    /// <summary>Counter of completed tasks ({task}).</summary>
    public const string CompletedInstrument = "buildingblocks.taskqueue.tasks.completed";

    /// <summary>Counter of failed attempts ({attempt}), retried or not.</summary>
    public const string FailedInstrument = "buildingblocks.taskqueue.tasks.failed";

    /// <summary>Counter of tasks moved to the dead-letter state ({task}), by a worker or by the sweeper.</summary>
    public const string DeadLetteredInstrument = "buildingblocks.taskqueue.tasks.dead_lettered";

    /// <summary>Counter of leases lost ({lease}): refused completions, heartbeats or failures, and leases the sweeper took back.</summary>
    public const string LeaseLostInstrument = "buildingblocks.taskqueue.leases.lost";

    /// <summary>Counter of canceled tasks ({task}) acknowledged by a worker.</summary>
    public const string CanceledInstrument = "buildingblocks.taskqueue.tasks.canceled";

    /// <summary>Gauge of tasks per queue and state ({task}), refreshed at every sweep; queues without a handler show here too.</summary>
    public const string QueueDepthInstrument = "buildingblocks.taskqueue.queue.depth";

    /// <summary>Histogram of the time from when a task was due (enqueue or run-at) to when its handler started (s).</summary>
    public const string PickupLatencyInstrument = "buildingblocks.taskqueue.pickup.latency";

    /// <summary>Histogram of handler run time (s), tagged with the outcome.</summary>
    public const string RunDurationInstrument = "buildingblocks.taskqueue.run.duration";

    /// <summary>Meter tag: the registration name ("" for the default task queue).</summary>
    public const string NameTag = "buildingblocks.taskqueue.name";

    /// <summary>Tag: the queue name.</summary>
    public const string QueueTag = "buildingblocks.taskqueue.queue";

    /// <summary>Tag: the task state (on the depth gauge): ready, scheduled, leased, dead_lettered.</summary>
    public const string StateTag = "buildingblocks.taskqueue.state";

    /// <summary>Tag: how a run ended: completed, retry, dead_lettered, canceled, lease_lost, released.</summary>
    public const string OutcomeTag = "buildingblocks.taskqueue.outcome";

    /// <summary>Tag on spans: the task id.</summary>
    public const string TaskIdTag = "buildingblocks.taskqueue.task.id";

    /// <summary>Tag on spans: the attempt number.</summary>
    public const string AttemptTag = "buildingblocks.taskqueue.task.attempt";

    /// <summary>The span around each enqueue call (producer).</summary>
    public const string EnqueueActivity = "TaskQueue.Enqueue";

    /// <summary>The span around each handler run (consumer), a child of the producer's span when it was traced.</summary>
    public const string RunActivity = "TaskQueue.Run";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
