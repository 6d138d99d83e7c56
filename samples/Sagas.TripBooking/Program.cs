using System.Text;
using Sagas.TripBooking;

// The saga's classic example: a trip books a flight, then a hotel and a car at the same time, then emails the
// confirmation, against simulated services that book once per idempotency key. One trip completes; one finds no car
// and is compensated (hotel, then flight, undone). --crash-after kills the process midway; --resume finishes the trip
// from the SQLite file without running the finished steps again.
//   dotnet run --project samples/Sagas.TripBooking                            two trips
//   dotnet run --project samples/Sagas.TripBooking -- --crash-after hotel     killed right after the hotel booking
//   dotnet run --project samples/Sagas.TripBooking -- --resume                finishes it
Console.OutputEncoding = Encoding.UTF8;
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    TripSettings settings = TripSettings.Parse(args);
    switch (settings.Mode)
    {
        case TripMode.Crash:
            return await new CrashDemo(settings).CrashAsync(Console.Out, cancellation.Token);
        case TripMode.Resume:
            return (await new CrashDemo(settings).ResumeAsync(Console.Out, cancellation.Token)).Succeeded ? 0 : 1;
        default:
            return (await new TripBookingDemo(settings).RunAsync(Console.Out, cancellation.Token)).Succeeded ? 0 : 1;
    }
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("Cancelled.");
    return 130;
}
catch (Exception e) when (e is ArgumentException or TimeoutException)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}
