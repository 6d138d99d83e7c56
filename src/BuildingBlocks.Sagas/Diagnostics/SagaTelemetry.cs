using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BuildingBlocks.Sagas;

/// <summary>The spans and instruments of the saga coordinator; without a meter factory the metric calls are no-ops.</summary>
internal sealed class SagaTelemetry : IDisposable
{
    public static readonly ActivitySource Source = new(SagasDiagnostics.ActivitySourceName);

    private readonly Meter? _meter;
    private readonly Counter<long>? _started;
    private readonly Counter<long>? _completed;
    private readonly Counter<long>? _compensated;
    private readonly Counter<long>? _parked;
    private readonly Counter<long>? _leaseLost;
    private readonly Histogram<double>? _stepDuration;
    private readonly Histogram<double>? _checkpointDuration;

    public SagaTelemetry(IMeterFactory? meterFactory)
    {
        if (meterFactory is null)
        {
            return;
        }

        _meter = meterFactory.Create(SagasDiagnostics.MeterName);
        _started = _meter.CreateCounter<long>(SagasDiagnostics.StartedInstrument, "{saga}", "Sagas started.");
        _completed = _meter.CreateCounter<long>(SagasDiagnostics.CompletedInstrument, "{saga}", "Sagas whose steps all completed.");
        _compensated = _meter.CreateCounter<long>(SagasDiagnostics.CompensatedInstrument, "{saga}", "Sagas that finished compensating.");
        _parked = _meter.CreateCounter<long>(SagasDiagnostics.ParkedInstrument, "{saga}", "Sagas parked for an operator.");
        _leaseLost = _meter.CreateCounter<long>(SagasDiagnostics.LeaseLostInstrument, "{lease}", "Leases lost to another coordinator.");
        _stepDuration = _meter.CreateHistogram<double>(SagasDiagnostics.StepDurationInstrument, "s", "Step attempt time.");
        _checkpointDuration = _meter.CreateHistogram<double>(SagasDiagnostics.CheckpointDurationInstrument, "s", "Checkpoint write time.");
    }

    public void Started(string saga) => _started?.Add(1, new KeyValuePair<string, object?>(SagasDiagnostics.SagaTag, saga));

    public void Completed(string saga) => _completed?.Add(1, new KeyValuePair<string, object?>(SagasDiagnostics.SagaTag, saga));

    public void Compensated(string saga) => _compensated?.Add(1, new KeyValuePair<string, object?>(SagasDiagnostics.SagaTag, saga));

    public void Parked(string saga, string reason) => _parked?.Add(
        1,
        new KeyValuePair<string, object?>(SagasDiagnostics.SagaTag, saga),
        new KeyValuePair<string, object?>(SagasDiagnostics.OutcomeTag, reason));

    public void LeaseLost(string saga) => _leaseLost?.Add(1, new KeyValuePair<string, object?>(SagasDiagnostics.SagaTag, saga));

    public void StepAttempt(string saga, string step, SagaDirection direction, string outcome, TimeSpan duration) => _stepDuration?.Record(
        duration.TotalSeconds,
        new KeyValuePair<string, object?>(SagasDiagnostics.SagaTag, saga),
        new KeyValuePair<string, object?>(SagasDiagnostics.StepTag, step),
        new KeyValuePair<string, object?>(SagasDiagnostics.DirectionTag, direction == SagaDirection.Forward ? "forward" : "compensation"),
        new KeyValuePair<string, object?>(SagasDiagnostics.OutcomeTag, outcome));

    public void Checkpoint(string saga, TimeSpan duration) =>
        _checkpointDuration?.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(SagasDiagnostics.SagaTag, saga));

    public void Dispose() => _meter?.Dispose();
}
