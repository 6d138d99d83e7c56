using System.Globalization;
using System.Text.RegularExpressions;
using BuildingBlocks.Sagas;
using Sagas.TripBooking;
using Sagas.TripBooking.Services;

namespace BuildingBlocks.Samples.Tests.TripBooking;

/// <summary>Runs the default mode once: Ada's trip completes, Grace's finds no car and is compensated.</summary>
public sealed class TripBookingRun : IAsyncLifetime
{
    internal TripBookingResult Result { get; private set; } = null!;

    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        Result = await new TripBookingDemo(new TripSettings()).RunAsync(output, TestContext.Current.CancellationToken);
        Output = output.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class TripBookingDemoTests(TripBookingRun run) : IClassFixture<TripBookingRun>
{
    private TripBookingResult Result => run.Result;

    [Fact]
    public void RunAsync_WithDefaults_KeepsEveryPromise()
    {
        Assert.True(Result.Succeeded, string.Join(Environment.NewLine, Result.Violations) + Environment.NewLine + run.Output);
        Assert.Contains("Every promise held:", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_TripWithEveryServiceAvailable_CompletesWithOneBookingPerService()
    {
        TripOutcome ada = Result.Trips.Single(t => t.Saga.Id == TripBookingDemo.Completed.TripId);
        Assert.Equal(SagaStatus.Completed, ada.Saga.Status);
        Assert.Equal(["flight", "hotel", "car", "email"], ada.Saga.Steps.Select(s => s.Name));
        Assert.All(ada.Saga.Steps, s => Assert.Equal(SagaStepStatus.Completed, s.Status));

        // The references in the saga data are the rows in the services' tables, one live row per service.
        Booking[] rows = [.. Result.Bookings.Where(b => b.Trip == ada.Saga.Id)];
        Assert.Equal(4, rows.Length);
        Assert.All(rows, b => Assert.NotEqual("canceled", b.Status));
        Assert.Equal(
            [ada.Data.FlightReference, ada.Data.HotelReference, ada.Data.CarReference, ada.Data.ConfirmationReference],
            TripSettings.Steps.Select(step => rows.Single(b => b.Service == step).Reference));
        Assert.Matches(
            new Regex($@"^  ✓ Completed in [\d.]+ s: flight {ada.Data.FlightReference}, hotel {ada.Data.HotelReference}, car {ada.Data.CarReference}, email {ada.Data.ConfirmationReference}$", RegexOptions.Multiline),
            run.Output);
    }

    [Fact]
    public void RunAsync_TripWithNoCarLeft_CompensatesTheHotelThenTheFlight()
    {
        TripOutcome grace = Result.Trips.Single(t => t.Saga.Id == TripBookingDemo.Compensated.TripId);
        Assert.Equal(SagaStatus.Compensated, grace.Saga.Status);
        Assert.Contains("SoldOutException: no cars left in Reykjavik", grace.Saga.Error, StringComparison.Ordinal);

        // Reverse order of completion: the hotel completed after the flight, so it is undone first; the car never booked.
        Assert.Equal(["flight", "hotel"], TripReport.Completions(grace.History));
        Assert.Equal(["hotel", "flight"], grace.Compensations);
        SagaEvent failed = Assert.Single(grace.History, e => e.Kind == SagaEventKind.StepFailed);
        Assert.Equal("car", failed.Step);
        Assert.True(failed.Sequence < grace.History.First(e => e.Kind == SagaEventKind.CompensationCompleted).Sequence);
        Assert.Equal(SagaEventKind.Compensated, grace.History[^1].Kind);

        Booking[] rows = [.. Result.Bookings.Where(b => b.Trip == grace.Saga.Id)];
        Assert.Equal(["flight", "hotel"], rows.Select(b => b.Service).Order(StringComparer.Ordinal));
        Assert.All(rows, b => Assert.Equal("canceled", b.Status));
        Assert.Matches(new Regex($@"^    1\. hotel  canceled {grace.Data.HotelReference}\r?\n    2\. flight canceled {grace.Data.FlightReference}\r?$", RegexOptions.Multiline), run.Output);
    }

    [Fact]
    public void RunAsync_FlakyAirline_IsRetriedUnderTheSameIdempotencyKey()
    {
        TripOutcome grace = Result.Trips.Single(t => t.Saga.Id == TripBookingDemo.Compensated.TripId);
        SagaEvent retried = Assert.Single(grace.History, e => e.Kind == SagaEventKind.StepAttemptFailed);
        Assert.Equal(("flight", 1), (retried.Step, retried.Attempt));
        Assert.StartsWith("ServiceUnavailableException: 503", retried.Detail, StringComparison.Ordinal);
        Assert.Equal(2, grace.History.Single(e => e.Kind == SagaEventKind.StepCompleted && e.Step == "flight").Attempt);

        // Both attempts reached the airline with one key; one seat was booked.
        ServiceCall[] calls = [.. Result.Calls.Where(c => c.Trip == grace.Saga.Id && c.Service == "flight" && c.Operation == "book")];
        Assert.Equal(2, calls.Length);
        Assert.Equal(SagaIdempotencyKey.For(grace.Saga.Id, "flight", SagaDirection.Forward), Assert.Single(calls.Select(c => c.IdempotencyKey).Distinct()));
        Assert.Single(Result.Bookings, b => b.Trip == grace.Saga.Id && b.Service == "flight");
    }

    [Fact]
    public void RunAsync_PrintsThePathOfTheCompensatedTripAsMermaid()
    {
        string diagram = Assert.IsType<string>(Result.Diagram);
        Assert.Contains("```mermaid" + Environment.NewLine + diagram + "```", run.Output, StringComparison.Ordinal);
        Assert.StartsWith("flowchart TD", diagram, StringComparison.Ordinal);
        string[] order = ["2. flight failed (attempt 1), retry", "3. flight done (attempt 2)", "5. car failed (attempt 1): SoldOutException", "6. undo hotel done", "7. undo flight done", "8. compensated", "trip-1002: Compensated"];
        int[] positions = [.. order.Select(label => diagram.IndexOf(label, StringComparison.Ordinal))];
        Assert.All(positions, p => Assert.True(p >= 0, diagram));
        Assert.Equal(positions.Order(), positions);
    }

    [Fact]
    public async Task RunAsync_ViaTaskQueue_QueuesTheEmailOnceAndItsWorkerSendsIt()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        TripBookingResult result = await new TripBookingDemo(new TripSettings { ViaTaskQueue = true }).RunAsync(output, TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Violations) + Environment.NewLine + output);
        TripOutcome ada = result.Trips.Single(t => t.Saga.Id == TripBookingDemo.Completed.TripId);
        Assert.Matches(new Regex(@"^task \d+$"), ada.Data.ConfirmationReference);
        Booking email = Assert.Single(result.Bookings, b => b.Trip == ada.Saga.Id && b.Service == "email");
        Assert.Equal("sent", email.Status);

        // The mailer got the saga step's key through the task, so a task run twice would send once.
        Assert.Equal(SagaIdempotencyKey.For(ada.Saga.Id, "email", SagaDirection.Forward), email.IdempotencyKey);
        Assert.Contains("the email step enqueues on BuildingBlocks.TaskQueue", output.ToString(), StringComparison.Ordinal);
    }
}
