using System.Diagnostics.Metrics;

namespace BuildingBlocks.TaskQueue;

/// <summary>The instruments of one task queue registration; without a meter factory every call is a no-op.</summary>
internal sealed class TaskQueueTelemetry : IDisposable
{
    private readonly Meter? _meter;
    private readonly Counter<long>? _enqueued;
    private readonly Counter<long>? _claimed;
    private readonly Counter<long>? _completed;
    private readonly Counter<long>? _failed;
    private readonly Counter<long>? _deadLettered;
    private readonly Counter<long>? _leaseLost;
    private readonly Counter<long>? _canceled;
    private readonly Histogram<double>? _pickupLatency;
    private readonly Histogram<double>? _runDuration;
    private volatile IReadOnlyList<QueueStatistics> _lastStatistics = [];

    public TaskQueueTelemetry(IMeterFactory? meterFactory, string name = "")
    {
        if (meterFactory is null)
        {
            return;
        }

        // One meter per registration name: the factory hands out distinct meters for distinct tags.
        _meter = meterFactory.Create(new MeterOptions(TaskQueueDiagnostics.MeterName)
        {
            Tags = [new KeyValuePair<string, object?>(TaskQueueDiagnostics.NameTag, name)],
        });
        _enqueued = _meter.CreateCounter<long>(TaskQueueDiagnostics.EnqueuedInstrument, "{task}", "Tasks stored by enqueue.");
        _claimed = _meter.CreateCounter<long>(TaskQueueDiagnostics.ClaimedInstrument, "{task}", "Tasks claimed by a worker.");
        _completed = _meter.CreateCounter<long>(TaskQueueDiagnostics.CompletedInstrument, "{task}", "Tasks completed.");
        _failed = _meter.CreateCounter<long>(TaskQueueDiagnostics.FailedInstrument, "{attempt}", "Failed attempts, retried or dead-lettered.");
        _deadLettered = _meter.CreateCounter<long>(TaskQueueDiagnostics.DeadLetteredInstrument, "{task}", "Tasks moved to the dead-letter state.");
        _leaseLost = _meter.CreateCounter<long>(TaskQueueDiagnostics.LeaseLostInstrument, "{lease}", "Leases lost: refused operations and leases the sweeper took back.");
        _canceled = _meter.CreateCounter<long>(TaskQueueDiagnostics.CanceledInstrument, "{task}", "Running tasks whose cancellation a worker acknowledged.");
        _pickupLatency = _meter.CreateHistogram<double>(TaskQueueDiagnostics.PickupLatencyInstrument, "s", "Time from when a task was due to when its handler started.");
        _runDuration = _meter.CreateHistogram<double>(TaskQueueDiagnostics.RunDurationInstrument, "s", "Handler run time.");
        _meter.CreateObservableGauge(TaskQueueDiagnostics.QueueDepthInstrument, ObserveDepth, "{task}", "Tasks per queue and state at the last sweep.");
    }

    public void Enqueued(string queue, long count) => _enqueued?.Add(count, Queue(queue));

    public void Claimed(string queue, int count) => _claimed?.Add(count, Queue(queue));

    public void Completed(string queue) => _completed?.Add(1, Queue(queue));

    public void Failed(string queue, bool deadLettered)
    {
        _failed?.Add(1, Queue(queue));
        if (deadLettered)
        {
            _deadLettered?.Add(1, Queue(queue));
        }
    }

    public void DeadLetteredBySweeper(int count)
    {
        if (count > 0)
        {
            _deadLettered?.Add(count);
        }
    }

    public void LeaseLost(string? queue, int count = 1)
    {
        if (count > 0)
        {
            _leaseLost?.Add(count, Queue(queue));
        }
    }

    public void Canceled(string queue) => _canceled?.Add(1, Queue(queue));

    public void PickedUp(string queue, TimeSpan latency) => _pickupLatency?.Record(Math.Max(0, latency.TotalSeconds), Queue(queue));

    public void Ran(string queue, string outcome, TimeSpan duration) =>
        _runDuration?.Record(duration.TotalSeconds, Queue(queue), new KeyValuePair<string, object?>(TaskQueueDiagnostics.OutcomeTag, outcome));

    public void Observed(IReadOnlyList<QueueStatistics> statistics) => _lastStatistics = statistics;

    public void Dispose() => _meter?.Dispose();

    private static KeyValuePair<string, object?> Queue(string? queue) => new(TaskQueueDiagnostics.QueueTag, queue);

    private IEnumerable<Measurement<long>> ObserveDepth()
    {
        foreach (QueueStatistics s in _lastStatistics)
        {
            yield return Depth(s.Queue, "ready", s.Ready);
            yield return Depth(s.Queue, "scheduled", s.Scheduled);
            yield return Depth(s.Queue, "leased", s.Leased);
            yield return Depth(s.Queue, "dead_lettered", s.DeadLettered);
        }
    }

    private static Measurement<long> Depth(string queue, string state, long value) =>
        new(value, Queue(queue), new KeyValuePair<string, object?>(TaskQueueDiagnostics.StateTag, state));
}
