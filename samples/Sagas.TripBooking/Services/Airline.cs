using System.Collections.Concurrent;

namespace Sagas.TripBooking.Services;

/// <summary>Books seats. Its gateway for some destinations answers 503 to the first call of each booking.</summary>
internal sealed class Airline(TravelDatabase database, TripLog log, CrashSwitch crash) : TravelService(database, log, crash)
{
    public static readonly string[] FlakyDestinations = ["Reykjavik"];

    private readonly ConcurrentDictionary<string, bool> _failedOnce = new(StringComparer.Ordinal);

    public override string Name => "flight";

    protected override string Prefix => "FL-";

    protected override int FirstNumber => 1001;

    protected override TimeSpan Latency => TimeSpan.FromMilliseconds(50);

    protected override void Refuse(TripData trip, string idempotencyKey)
    {
        if (FlakyDestinations.Contains(trip.To) && _failedOnce.TryAdd(idempotencyKey, true))
        {
            throw new ServiceUnavailableException($"503 Service Unavailable from the {trip.To} gateway");
        }
    }

    protected override string Describe(TripData trip) => $"{trip.Traveller}, {trip.From} → {trip.To}";
}
