using BuildingBlocks.Sagas;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sagas.TripBooking.Services;
using static Sagas.TripBooking.TripReport;

namespace Sagas.TripBooking;

/// <summary>
/// Killed midway and resumed. <c>--crash-after hotel</c> starts Alan's trip on the SQLite file and kills this process
/// (SIGKILL) right after the hotel booked the room, before the saga could record it. <c>--resume</c> opens the same
/// files in a new process: its coordinator takes the trip over once the dead process's lease expires and finishes it
/// from the last checkpoint. The report shows which process made which call: the steps checkpointed before the kill do
/// not run again, and the step killed between its booking and its checkpoint runs again with the same idempotency
/// key, so the hotel hands back the room it already booked.
/// </summary>
internal sealed class CrashDemo(TripSettings settings)
{
    public static readonly TripData Trip = new() { TripId = "trip-2001", Traveller = "Alan Turing", Email = "alan@example.com", From = "Manchester", To = "Rome", Nights = 4 };

    private string SagaFile => Path.Combine(settings.DataDirectory, TripHost.SagaFileName);

    /// <summary>Starts the trip and never returns: the process is killed after the chosen step's booking.</summary>
    public async Task<int> CrashAsync(TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        string step = settings.CrashAfter ?? throw new InvalidOperationException("--crash-after names no step.");

        // A fresh start: this sample's own files only.
        Directory.CreateDirectory(settings.DataDirectory);
        foreach (string name in new[] { TripHost.SagaFileName, TravelDatabase.FileName, TripHost.TaskFileName })
        {
            foreach (string suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(Path.Combine(settings.DataDirectory, name + suffix));
            }
        }

        var log = new TripLog(output);
        using IHost host = TripHost.Build(settings.DataDirectory, log, new CrashSwitch(step, output), settings.ViaTaskQueue);
        TravelDatabase services = host.Services.GetRequiredService<TravelDatabase>();
        await services.LogRunAsync($"--crash-after {step}{(settings.ViaTaskQueue ? " --via-task-queue" : "")}", cancellationToken);
        await host.StartAsync(cancellationToken);
        ISagaClient sagas = host.Services.GetRequiredService<ISagaClient>();

        WriteFiles(output, "Trip booking, killed midway: the saga's progress lives in a SQLite file that outlives the process", services);
        output.WriteLine(Invariant($"Process {Environment.ProcessId} starts {Trip.TripId} ({Trip.Traveller}, {Trip.Route}); it is killed right after the {step} service answers."));
        output.Flush();
        await sagas.StartAsync(Copy(Trip), new SagaStartOptions { SagaId = Trip.TripId }, cancellationToken);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        SagaSnapshot saga = await sagas.WaitForEndAsync(Trip.TripId, deadline.Token);
        output.WriteLine(Invariant($"{Trip.TripId} ended {saga.Status} and the process was not killed: the {step} step never booked."));
        return 1;
    }

    public async Task<TripBookingResult> ResumeAsync(TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!File.Exists(SagaFile))
        {
            throw new ArgumentException($"No saga file at {SagaFile}: run with --crash-after <step> first{(settings.DataDirectory == TripSettings.DefaultDataDirectory ? "" : $" and --data {settings.DataDirectory}")}.");
        }

        var earlierServices = new TravelDatabase(Path.Combine(settings.DataDirectory, TravelDatabase.FileName));
        bool viaTaskQueue = settings.ViaTaskQueue || (await earlierServices.RunsAsync(cancellationToken)).Any(r => r.Mode.Contains("--via-task-queue", StringComparison.Ordinal));
        var log = new TripLog(output);
        using IHost host = TripHost.Build(settings.DataDirectory, log, CrashSwitch.Off, viaTaskQueue);
        TravelDatabase services = host.Services.GetRequiredService<TravelDatabase>();
        ISagaClient sagas = host.Services.GetRequiredService<ISagaClient>();
        await services.LogRunAsync("--resume", cancellationToken);

        WriteFiles(output, $"Trip booking, resumed: process {Environment.ProcessId} opens the files the killed run left", services);

        // Read the store before the coordinator starts, to show the state the killed run left.
        IReadOnlyList<SagaSnapshot> unfinished = await sagas.ListAsync(new SagaQuery { Statuses = [SagaStatus.Running, SagaStatus.Compensating] }, cancellationToken);
        if (unfinished.Count == 0)
        {
            IReadOnlyList<SagaSnapshot> all = await sagas.ListAsync(new SagaQuery(), cancellationToken);
            output.WriteLine(Invariant($"Nothing to resume: {(all.Count == 0 ? "the file holds no saga" : string.Join(", ", all.Select(s => $"{s.Id} is {s.Status}")))}."));
            return new TripBookingResult([], await services.BookingsAsync(cancellationToken), await services.CallsAsync(cancellationToken), null, []);
        }

        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        foreach (SagaSnapshot saga in unfinished)
        {
            TripData data = (await sagas.GetDataAsync<TripData>(saga.Id, cancellationToken))!;
            output.WriteLine(Invariant($"  {saga.Id} ({data.Traveller}, {data.Route}) is {saga.Status}: {string.Join(", ", saga.Steps.Select(s => $"{s.Name} {s.Status}"))}"));
            output.WriteLine(saga.LeaseExpiresAt is { } expires && expires > now
                ? Invariant($"  its lease belongs to the killed run's coordinator ({saga.LeaseOwner}) for {(expires - now).TotalSeconds:0.0} s more; this process's coordinator takes the saga over when it expires (LeaseDuration {TripHost.LeaseDuration.TotalSeconds:0} s).")
                : Invariant($"  its lease (held by {saga.LeaseOwner ?? "nobody"}) has expired: this process's coordinator takes the saga over at once."));
        }

        output.Flush();
        await host.StartAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        var trips = new List<TripOutcome>();
        foreach (SagaSnapshot before in unfinished)
        {
            SagaSnapshot saga = await sagas.WaitForEndAsync(before.Id, deadline.Token);
            TripData data = (await sagas.GetDataAsync<TripData>(saga.Id, cancellationToken))!;
            if (viaTaskQueue && saga.Status == SagaStatus.Completed)
            {
                while (!(await services.BookingsAsync(cancellationToken)).Any(b => b.Trip == saga.Id && b.Service == "email"))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
                }
            }

            output.WriteLine(Invariant($"  {(saga.Status == SagaStatus.Completed ? "✓" : "✗")} {saga.Id} {saga.Status} {log.Elapsed.TotalSeconds:0.0} s after this process started."));
            trips.Add(new TripOutcome(data, saga, data, await sagas.GetHistoryAsync(saga.Id, cancellationToken)));
        }

        output.WriteLine();
        IReadOnlyList<Booking> bookings = await services.BookingsAsync(cancellationToken);
        IReadOnlyList<ServiceCall> calls = await services.CallsAsync(cancellationToken);
        IReadOnlyList<(int Pid, string Mode)> runs = await services.RunsAsync(cancellationToken);
        var violations = new List<string>();
        foreach (TripOutcome trip in trips)
        {
            WriteRuns(output, trip, calls, runs);
            output.WriteLine();
            output.WriteLine(Invariant($"History of {trip.Saga.Id} (the Lease column is the fencing token of the coordinator that wrote the line):"));
            WriteHistory(output, trip.History);
            output.WriteLine();
            violations.AddRange(Check(trip, bookings, calls, runs));
            Booking[] rows = [.. bookings.Where(b => b.Trip == trip.Saga.Id)];
            output.WriteLine(Invariant($"Bookings of {trip.Saga.Id} in the services' tables: {string.Join(", ", TripSettings.Steps.Select(s => $"{rows.Count(b => b.Service == s)} {s} ({string.Join(" ", rows.Where(b => b.Service == s).Select(b => b.Reference))})"))}."));
        }

        output.WriteLine(violations.Count == 0
            ? "Every promise held: the steps checkpointed before the kill did not run again, a step killed between its booking and its checkpoint ran again with the same idempotency key and got its first booking back, and nothing was booked twice. ✓"
            : Invariant($"{violations.Count} promise(s) broken:"));
        foreach (string violation in violations)
        {
            output.WriteLine($"  - {violation}");
        }

        await host.StopAsync(cancellationToken);
        SqliteConnection.ClearAllPools();
        return new TripBookingResult(trips, bookings, calls, null, violations);
    }

    private void WriteFiles(TextWriter output, string title, TravelDatabase services)
    {
        output.WriteLine(title);
        output.WriteLine(Invariant($"  sagas:    {SagaFile}"));
        output.WriteLine(Invariant($"  services: {services.Path}"));
    }

    /// <summary>One row per step: what each process's call to the service got back, and which lease recorded the step.</summary>
    private static void WriteRuns(TextWriter output, TripOutcome trip, IReadOnlyList<ServiceCall> calls, IReadOnlyList<(int Pid, string Mode)> runs)
    {
        output.WriteLine(Invariant($"What each run did for {trip.Saga.Id} (the services' call log; — = no answer):"));
        string[] headers = [
            "Step",
            .. runs.Select((r, i) => Invariant($"Run {i + 1}: pid {r.Pid} ({r.Mode}{(r.Mode.StartsWith("--crash-after", StringComparison.Ordinal) ? ", killed" : "")})")),
            "Recorded by the saga",
        ];
        var table = new TextTable(headers);
        foreach (string step in TripSettings.Steps)
        {
            SagaEvent? completed = trip.History.FirstOrDefault(e => e.Kind == SagaEventKind.StepCompleted && e.Step == step);
            table.Add([
                step,
                .. runs.Select(r => string.Join("; ", calls.Where(c => c.Trip == trip.Saga.Id && c.Service == step && c.Operation == "book" && c.ProcessId == r.Pid).Select(c => c.Outcome)) is { Length: > 0 } done ? done : "—"),
                completed is null ? "not completed" : Invariant($"completed, line {completed.Sequence}, lease {completed.LeaseToken}"),
            ]);
        }

        table.WriteTo(output);
    }

    private static List<string> Check(TripOutcome trip, IReadOnlyList<Booking> bookings, IReadOnlyList<ServiceCall> calls, IReadOnlyList<(int Pid, string Mode)> runs)
    {
        var violations = new List<string>();
        string id = trip.Saga.Id;
        if (trip.Saga.Status != SagaStatus.Completed)
        {
            violations.Add(Invariant($"{id} is {trip.Saga.Status}, not Completed: {trip.Saga.Error}"));
        }

        long resumedToken = trip.History.Max(e => e.LeaseToken);
        foreach (string step in TripSettings.Steps)
        {
            Booking[] rows = [.. bookings.Where(b => b.Trip == id && b.Service == step)];
            if (rows.Length != 1 || rows[0].Status == "canceled")
            {
                violations.Add(Invariant($"{id} should hold one live {step} booking; it holds {rows.Length}"));
            }

            ServiceCall[] books = [.. calls.Where(c => c.Trip == id && c.Service == step && c.Operation == "book")];
            if (books.Select(c => c.IdempotencyKey).Distinct().Count() > 1)
            {
                violations.Add(Invariant($"{id}: the {step} service was called with more than one idempotency key"));
            }

            // A step the killed run had checkpointed is not called again by this one.
            SagaEvent? completed = trip.History.FirstOrDefault(e => e.Kind == SagaEventKind.StepCompleted && e.Step == step);
            if (completed is not null && completed.LeaseToken < resumedToken && books.Any(c => c.ProcessId == Environment.ProcessId))
            {
                violations.Add(Invariant($"{id}: {step} was checkpointed before the kill (lease {completed.LeaseToken}) but this run called the service again"));
            }
        }

        if (runs.Count < 2 || !runs[0].Mode.StartsWith("--crash-after", StringComparison.Ordinal))
        {
            violations.Add("the services' run log does not start with the killed --crash-after run");
        }
        else if (!calls.Any(c => c.Trip == id && c.ProcessId == runs[0].Pid))
        {
            violations.Add(Invariant($"the killed run (pid {runs[0].Pid}) booked nothing for {id}"));
        }

        return violations;
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
