using BuildingBlocks.Sagas;
using Sagas.TripBooking.Services;

namespace Sagas.TripBooking;

/// <summary>
/// The trip: book the flight first; then the hotel and the car at the same time; then email the confirmation. A booking
/// that fails for good undoes the ones made, newest first. Every call passes the step's idempotency key, so a step run
/// again (a retry, or a resume after a crash) finds its first booking instead of making a second one.
/// </summary>
internal sealed class TripSaga(Airline airline, Hotels hotels, CarRental cars, IConfirmationSender confirmation) : SagaDefinition<TripData>
{
    public override string Name => "trip";

    protected override void Define(SagaBuilder<TripData> saga)
    {
        saga.WithDeadline(TimeSpan.FromMinutes(5));

        saga.Step("flight")
            .Execute(async (ctx, ct) => ctx.Data.FlightReference = await airline.BookAsync(ctx.Data, ctx.IdempotencyKey, ct))
            .Compensate((ctx, ct) => airline.CancelAsync(ctx.Data, ctx.Data.FlightReference!, ctx.IdempotencyKey, ct))
            .WithRetry(3, retry =>
            {
                retry.InitialDelay = TimeSpan.FromMilliseconds(100);
                retry.ShouldRetry = e => e is ServiceUnavailableException or TimeoutException;
            })
            .WithTimeout(TimeSpan.FromSeconds(10));

        saga.Parallel("stay", stay =>
        {
            stay.Step("hotel")
                .Execute(async (ctx, ct) => ctx.Data.HotelReference = await hotels.BookAsync(ctx.Data, ctx.IdempotencyKey, ct))
                .Compensate((ctx, ct) => hotels.CancelAsync(ctx.Data, ctx.Data.HotelReference!, ctx.IdempotencyKey, ct));
            stay.Step("car")
                .Execute(async (ctx, ct) => ctx.Data.CarReference = await cars.BookAsync(ctx.Data, ctx.IdempotencyKey, ct))
                .Compensate((ctx, ct) => cars.CancelAsync(ctx.Data, ctx.Data.CarReference!, ctx.IdempotencyKey, ct))
                .WithRetry(3, retry => retry.ShouldRetry = e => e is ServiceUnavailableException);
        });

        // Nothing to undo: the last step runs only when every booking is made.
        saga.Step("email")
            .Execute(async (ctx, ct) => ctx.Data.ConfirmationReference = await confirmation.SendAsync(ctx.Data, ctx.IdempotencyKey, ct));
    }
}
