namespace Sagas.TripBooking.Services;

/// <summary>Books rooms.</summary>
internal sealed class Hotels(TravelDatabase database, TripLog log, CrashSwitch crash) : TravelService(database, log, crash)
{
    public override string Name => "hotel";

    protected override string Prefix => "HT-";

    protected override int FirstNumber => 2001;

    protected override TimeSpan Latency => TimeSpan.FromMilliseconds(80);

    protected override string Describe(TripData trip) => $"{trip.Traveller}, {trip.To}, {trip.Nights} nights";
}
