namespace Sagas.TripBooking.Services;

/// <summary>
/// What the four simulated services share: a booking call that takes the step's idempotency key (a repeated call with
/// the same key returns the first booking instead of making a second one), a cancel that is a no-op the second time,
/// a little latency, and a record of every answer.
/// </summary>
internal abstract class TravelService(TravelDatabase database, TripLog log, CrashSwitch crash)
{
    /// <summary>The service's name in the tables and the log; the same as the saga step that calls it.</summary>
    public abstract string Name { get; }

    protected abstract string Prefix { get; }

    protected abstract int FirstNumber { get; }

    protected abstract TimeSpan Latency { get; }

    /// <summary>What a booking call does, for the log: "booked", "sent".</summary>
    protected virtual string Verb => "booked";

    public async Task<string> BookAsync(TripData trip, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trip);
        await Task.Delay(Latency, cancellationToken);
        try
        {
            Refuse(trip, idempotencyKey);
        }
        catch (Exception e)
        {
            await database.LogCallAsync(Name, "book", idempotencyKey, trip.TripId, $"failed: {e.Message}", cancellationToken);
            log.Write(Name, $"{trip.TripId}: {e.Message}");
            throw;
        }

        (string reference, bool existing) = await database.BookAsync(Name, Prefix, FirstNumber, idempotencyKey, trip.TripId, Describe(trip), Verb, cancellationToken);
        string outcome = existing ? $"returned {reference} (already {Verb} under this key)" : $"{Verb} {reference}";
        await database.LogCallAsync(Name, "book", idempotencyKey, trip.TripId, outcome, cancellationToken);
        log.Write(Name, $"{trip.TripId}: {outcome}");

        // In the crash demo the process may die here: the booking is in the service's table, the saga has not recorded it.
        await crash.AfterCallAsync(Name);
        return reference;
    }

    public async Task CancelAsync(TripData trip, string reference, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trip);
        await Task.Delay(Latency / 2, cancellationToken);
        bool canceled = await database.CancelAsync(Name, reference, cancellationToken);
        string outcome = canceled ? $"canceled {reference}" : $"{reference} was canceled already";
        await database.LogCallAsync(Name, "cancel", idempotencyKey, trip.TripId, outcome, cancellationToken);
        log.Write(Name, $"{trip.TripId}: {outcome}");
    }

    /// <summary>Throws when the service turns the booking down (sold out, unavailable).</summary>
    protected virtual void Refuse(TripData trip, string idempotencyKey)
    {
    }

    protected abstract string Describe(TripData trip);
}

/// <summary>A 503 from a service: worth another attempt.</summary>
internal sealed class ServiceUnavailableException : Exception
{
    public ServiceUnavailableException()
    {
    }

    public ServiceUnavailableException(string message)
        : base(message)
    {
    }

    public ServiceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Nothing left to book: no retry will help.</summary>
internal sealed class SoldOutException : Exception
{
    public SoldOutException()
    {
    }

    public SoldOutException(string message)
        : base(message)
    {
    }

    public SoldOutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
