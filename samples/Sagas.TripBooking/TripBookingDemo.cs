using BuildingBlocks.Sagas;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sagas.TripBooking.Services;
using static Sagas.TripBooking.TripReport;

namespace Sagas.TripBooking;

/// <summary>
/// The default run: two trips booked by the trip saga on a fresh SQLite file. Ada's completes. Grace's flight is
/// retried once (the airline's gateway answers 503), her hotel is booked, but there are no cars left in Reykjavik: the
/// saga compensates, cancelling the hotel, then the flight. The sample prints each outcome, the compensations in the
/// order they ran, Grace's history and its path as a Mermaid diagram, then checks the services' tables.
/// </summary>
internal sealed class TripBookingDemo(TripSettings settings)
{
    public static readonly TripData Completed = new() { TripId = "trip-1001", Traveller = "Ada Lovelace", Email = "ada@example.com", From = "London", To = "Lisbon", Nights = 3 };

    public static readonly TripData Compensated = new() { TripId = "trip-1002", Traveller = "Grace Hopper", Email = "grace@example.com", From = "New York", To = "Reykjavik", Nights = 2 };

    public async Task<TripBookingResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        string directory = Path.Combine(Path.GetTempPath(), $"tripbooking-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            return await RunInAsync(directory, output, cancellationToken);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<TripBookingResult> RunInAsync(string directory, TextWriter output, CancellationToken cancellationToken)
    {
        using IHost host = TripHost.Build(directory, new TripLog(null), CrashSwitch.Off, settings.ViaTaskQueue);
        await host.StartAsync(cancellationToken);
        ISagaClient sagas = host.Services.GetRequiredService<ISagaClient>();
        TravelDatabase services = host.Services.GetRequiredService<TravelDatabase>();

        output.WriteLine("Trip booking: a saga books the flight, then the hotel and the car at the same time, then emails the confirmation");
        output.WriteLine(Invariant($"  sagas:    {Path.Combine(directory, TripHost.SagaFileName)}"));
        output.WriteLine(Invariant($"  services: {services.Path} (airline, hotel, car rental, mailer: one row per idempotency key)"));
        if (settings.ViaTaskQueue)
        {
            output.WriteLine(Invariant($"  emails:   {Path.Combine(directory, TripHost.TaskFileName)} (the email step enqueues on BuildingBlocks.TaskQueue; its worker sends)"));
        }

        output.WriteLine(Invariant($"  the car rental has no cars left in {CarRental.SoldOutCities[0]}; the airline's {Airline.FlakyDestinations[0]} gateway answers 503 to a booking's first call"));
        output.WriteLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        TripData[] requests = [Completed, Compensated];
        foreach (TripData trip in requests)
        {
            // The trip id is the saga id: starting the same trip twice starts one saga.
            await sagas.StartAsync(Copy(trip), new SagaStartOptions { SagaId = trip.TripId }, cancellationToken);
        }

        var trips = new List<TripOutcome>();
        foreach (TripData trip in requests)
        {
            SagaSnapshot saga = await WaitAsync(sagas, trip.TripId, settings.Timeout, deadline.Token);
            TripData data = (await sagas.GetDataAsync<TripData>(trip.TripId, cancellationToken))!;
            trips.Add(new TripOutcome(trip, saga, data, await sagas.GetHistoryAsync(trip.TripId, cancellationToken)));
        }

        if (settings.ViaTaskQueue)
        {
            await WaitForEmailAsync(services, Completed.TripId, settings.Timeout, deadline.Token);
        }

        IReadOnlyList<Booking> bookings = await services.BookingsAsync(cancellationToken);
        IReadOnlyList<ServiceCall> calls = await services.CallsAsync(cancellationToken);
        foreach (TripOutcome trip in trips)
        {
            WriteTrip(output, trip, calls);
        }

        TripOutcome compensated = trips[1];
        string diagram = await sagas.GetPathDiagramAsync(compensated.Saga.Id, cancellationToken);
        output.WriteLine(Invariant($"Path of {compensated.Saga.Id} (GetPathDiagramAsync; paste it into a Markdown file or https://mermaid.live):"));
        output.WriteLine("```mermaid");
        output.Write(diagram);
        output.WriteLine("```");
        output.WriteLine();

        output.WriteLine("The services' tables at the end:");
        var table = new TextTable("Service", "Reference", "Trip", "Status", "Details");
        foreach (Booking booking in bookings.OrderBy(b => b.Trip, StringComparer.Ordinal).ThenBy(b => Array.IndexOf(TripSettings.Steps, b.Service)))
        {
            table.Add(booking.Service, booking.Reference, booking.Trip, booking.Status, booking.Details);
        }

        table.WriteTo(output);
        output.WriteLine();

        List<string> violations = Check(trips, bookings);
        output.WriteLine(violations.Count == 0
            ? Invariant($"Every promise held: {Completed.TripId} holds one live booking per service and one email; every booking of {Compensated.TripId} is canceled, newest first, and no email went out. ✓")
            : Invariant($"{violations.Count} promise(s) broken:"));
        foreach (string violation in violations)
        {
            output.WriteLine($"  - {violation}");
        }

        await host.StopAsync(cancellationToken);
        return new TripBookingResult(trips, bookings, calls, diagram, violations);
    }

    private static void WriteTrip(TextWriter output, TripOutcome trip, IReadOnlyList<ServiceCall> calls)
    {
        SagaSnapshot saga = trip.Saga;
        TripData data = trip.Data;
        output.WriteLine(Invariant($"{saga.Id}  {data.Traveller}  {data.Route}"));
        double seconds = (saga.UpdatedAt - saga.CreatedAt).TotalSeconds;
        if (saga.Status == SagaStatus.Completed)
        {
            output.WriteLine(Invariant($"  ✓ Completed in {seconds:0.00} s: flight {data.FlightReference}, hotel {data.HotelReference}, car {data.CarReference}, email {data.ConfirmationReference}"));
        }
        else
        {
            output.WriteLine(Invariant($"  ✗ {saga.Status} in {seconds:0.00} s: {saga.Error}"));
            output.WriteLine(Invariant($"  Completed steps, in order: {string.Join(", ", TripReport.Completions(trip.History))}"));
            output.WriteLine("  Compensations, in the order they ran (newest booking first):");
            int n = 0;
            foreach (string step in trip.Compensations)
            {
                ServiceCall? cancel = calls.LastOrDefault(c => c.Trip == saga.Id && c.Service == step && c.Operation == "cancel");
                output.WriteLine(Invariant($"    {++n}. {step,-6} {cancel?.Outcome ?? "?"}"));
            }
        }

        output.WriteLine("  History:");
        WriteHistory(output, trip.History);
        output.WriteLine();
    }

    private static List<string> Check(List<TripOutcome> trips, IReadOnlyList<Booking> bookings)
    {
        var violations = new List<string>();
        TripOutcome ada = trips[0];
        if (ada.Saga.Status != SagaStatus.Completed)
        {
            violations.Add(Invariant($"{ada.Saga.Id} is {ada.Saga.Status}, not Completed: {ada.Saga.Error}"));
        }

        foreach (string service in TripSettings.Steps)
        {
            Booking[] rows = [.. bookings.Where(b => b.Trip == ada.Saga.Id && b.Service == service)];
            if (rows.Length != 1 || rows[0].Status == "canceled")
            {
                violations.Add(Invariant($"{ada.Saga.Id} should hold one live {service} booking; it holds {rows.Length} ({string.Join(", ", rows.Select(r => $"{r.Reference} {r.Status}"))})"));
            }
        }

        TripOutcome grace = trips[1];
        if (grace.Saga.Status != SagaStatus.Compensated)
        {
            violations.Add(Invariant($"{grace.Saga.Id} is {grace.Saga.Status}, not Compensated: {grace.Saga.Error}"));
        }

        // Compensation runs in reverse order of completion: the hotel completed after the flight, so it is undone first.
        string[] expected = [.. TripReport.Completions(grace.History).Reverse()];
        if (!grace.Compensations.SequenceEqual(expected) || !expected.SequenceEqual(["hotel", "flight"]))
        {
            violations.Add(Invariant($"{grace.Saga.Id} should have undone hotel then flight; it undid {string.Join(", ", grace.Compensations)} after completing {string.Join(", ", TripReport.Completions(grace.History))}"));
        }

        Booking[] left = [.. bookings.Where(b => b.Trip == grace.Saga.Id && b.Status != "canceled")];
        if (left.Length > 0)
        {
            violations.Add(Invariant($"{grace.Saga.Id} still holds {string.Join(", ", left.Select(b => $"{b.Service} {b.Reference} ({b.Status})"))}"));
        }

        if (bookings.Count(b => b.Trip == grace.Saga.Id) != 2)
        {
            violations.Add(Invariant($"{grace.Saga.Id} should have made exactly a flight and a hotel booking; it made {bookings.Count(b => b.Trip == grace.Saga.Id)}"));
        }

        return violations;
    }

    private static async Task<SagaSnapshot> WaitAsync(ISagaClient sagas, string id, TimeSpan timeout, CancellationToken deadline)
    {
        try
        {
            return await sagas.WaitForEndAsync(id, deadline);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            SagaSnapshot? saga = await sagas.GetAsync(id, CancellationToken.None);
            throw new TimeoutException(Invariant($"Saga {id} did not finish within {timeout.TotalSeconds:0} s; it is {saga?.Status.ToString() ?? "missing"}."));
        }
    }

    private static async Task WaitForEmailAsync(TravelDatabase services, string trip, TimeSpan timeout, CancellationToken deadline)
    {
        while (!(await services.BookingsAsync(CancellationToken.None)).Any(b => b.Trip == trip && b.Service == "email"))
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), deadline);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                throw new TimeoutException(Invariant($"The queued email of {trip} was not sent within {timeout.TotalSeconds:0} s."));
            }
        }
    }

    private static TripData Copy(TripData trip) => new()
    {
        TripId = trip.TripId,
        Traveller = trip.Traveller,
        Email = trip.Email,
        From = trip.From,
        To = trip.To,
        Nights = trip.Nights,
    };
}
