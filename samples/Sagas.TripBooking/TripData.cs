namespace Sagas.TripBooking;

/// <summary>
/// The saga data: what the traveller asked for, and the references each step got back. Saved as JSON with every step's
/// completion, so a resumed saga (and every compensation) knows what was booked.
/// </summary>
internal sealed class TripData
{
    public string TripId { get; set; } = "";

    public string Traveller { get; set; } = "";

    public string Email { get; set; } = "";

    public string From { get; set; } = "";

    public string To { get; set; } = "";

    public int Nights { get; set; }

    public string? FlightReference { get; set; }

    public string? HotelReference { get; set; }

    public string? CarReference { get; set; }

    public string? ConfirmationReference { get; set; }

    public string Route => $"{From} → {To}, {Nights} nights";
}
