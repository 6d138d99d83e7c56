using BuildingBlocks.Sagas;
using Sagas.TripBooking.Services;

namespace Sagas.TripBooking;

/// <summary>One trip at the end of a run: its saga as stored, its history, and what it booked.</summary>
internal sealed record TripOutcome(TripData Request, SagaSnapshot Saga, TripData Data, IReadOnlyList<SagaEvent> History)
{
    public IReadOnlyList<string> Compensations => TripReport.Compensations(History);
}

/// <summary>What a run did, and the promises it broke (none, when it succeeded).</summary>
internal sealed record TripBookingResult(
    IReadOnlyList<TripOutcome> Trips,
    IReadOnlyList<Booking> Bookings,
    IReadOnlyList<ServiceCall> Calls,
    string? Diagram,
    IReadOnlyList<string> Violations)
{
    public bool Succeeded => Violations.Count == 0;
}
