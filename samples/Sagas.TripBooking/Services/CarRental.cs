namespace Sagas.TripBooking.Services;

/// <summary>Rents cars. It has none left in some cities: that booking fails for good.</summary>
internal sealed class CarRental(TravelDatabase database, TripLog log, CrashSwitch crash) : TravelService(database, log, crash)
{
    public static readonly string[] SoldOutCities = ["Reykjavik"];

    public override string Name => "car";

    protected override string Prefix => "CR-";

    protected override int FirstNumber => 3001;

    // Slower than the hotel, so in the crash demo the car is still on the phone when the hotel kills the process.
    protected override TimeSpan Latency => TimeSpan.FromMilliseconds(200);

    protected override void Refuse(TripData trip, string idempotencyKey)
    {
        if (SoldOutCities.Contains(trip.To))
        {
            throw new SoldOutException($"no cars left in {trip.To}");
        }
    }

    protected override string Describe(TripData trip) => $"{trip.Traveller}, {trip.To}, {trip.Nights} days";
}
