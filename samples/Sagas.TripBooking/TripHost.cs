using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Sagas.TripBooking.Services;

namespace Sagas.TripBooking;

/// <summary>The app: the simulated services, the trip saga on a SQLite file, and (optionally) the email queue.</summary>
internal static class TripHost
{
    public const string SagaFileName = "trip-bookings.db";
    public const string TaskFileName = "trip-tasks.db";

    /// <summary>How long a killed run's lease blocks its sagas: the resume waits at most this long.</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(3);

    public static IHost Build(string directory, TripLog log, CrashSwitch crash, bool viaTaskQueue)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        // The sample prints every step failure from the saga's history; the coordinator's own warnings would repeat them.
        builder.Logging.AddFilter("BuildingBlocks.Sagas", LogLevel.Error);

        builder.Services.AddSingleton(new TravelDatabase(Path.Combine(directory, TravelDatabase.FileName)));
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(crash);
        builder.Services.AddSingleton<Airline>();
        builder.Services.AddSingleton<Hotels>();
        builder.Services.AddSingleton<CarRental>();
        builder.Services.AddSingleton<Mailer>();

        // The whole saga integration: the coordinator (a hosted service), one definition, the store.
        builder.Services.AddSagas(o =>
            {
                o.LeaseDuration = LeaseDuration;
                o.LeaseRenewalInterval = TimeSpan.FromSeconds(1);
                o.PollInterval = TimeSpan.FromMilliseconds(250);
            })
            .AddSaga<TripSaga, TripData>()
            .UseSqlite(Path.Combine(directory, SagaFileName));

        if (viaTaskQueue)
        {
            builder.Services.AddSingleton<IConfirmationSender, QueuedConfirmation>();
            builder.Services.AddTaskQueue(o =>
                {
                    o.LeaseDuration = LeaseDuration;
                    o.HeartbeatInterval = TimeSpan.FromSeconds(1);
                    o.PollInterval = TimeSpan.FromMilliseconds(100);
                    o.SweepInterval = TimeSpan.FromMilliseconds(500);
                })
                .UseSqlite(Path.Combine(directory, TaskFileName))
                .AddHandler<SendConfirmationEmail>(QueuedConfirmation.Queue);
        }
        else
        {
            builder.Services.AddSingleton<IConfirmationSender, DirectConfirmation>();
        }

        return builder.Build();
    }
}
