namespace Sagas.TripBooking.Services;

/// <summary>Sends the confirmation email, once per idempotency key (a repeated call returns the first message's id).</summary>
internal sealed class Mailer(TravelDatabase database, TripLog log, CrashSwitch crash) : TravelService(database, log, crash)
{
    public override string Name => "email";

    protected override string Prefix => "MSG-";

    protected override int FirstNumber => 4001;

    protected override TimeSpan Latency => TimeSpan.FromMilliseconds(30);

    protected override string Verb => "sent";

    protected override string Describe(TripData trip) =>
        $"to {trip.Email}: flight {trip.FlightReference}, hotel {trip.HotelReference}, car {trip.CarReference}";
}
