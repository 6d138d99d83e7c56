namespace BuildingBlocks.Sagas;

/// <summary>Parks a saga the coordinator cannot go on with, keeping its data and progress as they were.</summary>
internal static class SagaSuspension
{
    /// <summary>Writes the suspension with the lease the record was acquired with, and releases the lease.</summary>
    /// <returns><see langword="false"/> when the lease was lost.</returns>
    public static async Task<bool> SuspendAsync(SagaRuntime runtime, SagaRecord record, string data, string progressText, string reason, CancellationToken cancellationToken)
    {
        long sequence;
        string progress = progressText;
        try
        {
            SagaProgress parsed = SagaProgress.Deserialize(progressText);
            sequence = ++parsed.LastSequence;
            progress = parsed.Serialize();
        }
        catch (System.Text.Json.JsonException)
        {
            // Unreadable progress is kept as it is for the operator; number the line after the stored ones.
            IReadOnlyList<SagaEvent> events = await runtime.Store.GetEventsAsync(record.Id, cancellationToken).ConfigureAwait(false);
            sequence = events.Count == 0 ? 1 : events[^1].Sequence + 1;
        }

        SagaCheckpoint checkpoint = new()
        {
            SagaId = record.Id,
            LeaseOwner = runtime.CoordinatorId,
            LeaseToken = record.LeaseToken,
            Status = SagaStatus.Suspended,
            Data = data,
            Progress = progress,
            Error = reason,
            UpdatedAt = runtime.Time.GetUtcNow(),
            Events = [new SagaEvent { Sequence = sequence, Kind = SagaEventKind.Suspended, At = runtime.Time.GetUtcNow(), Detail = reason, LeaseToken = record.LeaseToken }],
            ReleaseLease = true,
        };
        bool written = await runtime.Store.CheckpointAsync(checkpoint, cancellationToken).ConfigureAwait(false);
        if (written)
        {
            runtime.Telemetry.Parked(record.Name, "suspended");
            Log.SagaSuspended(runtime.Logger, record.Id, record.Name, record.Version, reason);
        }

        return written;
    }
}
