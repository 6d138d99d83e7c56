using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>
/// A generic host running a saga coordinator for <see cref="CrashSaga"/> with short leases (1 s unless --lease-ms says
/// otherwise, renewed every quarter), polls every 100 ms and up to 16 sagas at once. It first starts the sagas of its
/// range (one <c>STARTED &lt;index&gt;</c> line each, then <c>STARTS DONE</c>), then runs until killed or, with
/// --exit-when-done, until no saga is Running or Compensating (<c>DONE …</c>, exit code 0).
/// </summary>
internal static class RunRole
{
    private static readonly TimeSpan s_doneCheckInterval = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(CrashHostArguments arguments, CancellationToken lifetime)
    {
        string coordinatorId = string.Create(CultureInfo.InvariantCulture, $"{arguments.Coordinator}/{Environment.ProcessId}");
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddProvider(new ProtocolEventLoggerProvider());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var ledger = new Ledger(arguments.Ledger);
        builder.Services.AddSingleton(new CrashService(ledger, coordinatorId, arguments.MaxPause));
        builder.Services
            .AddSagas(o =>
            {
                o.CoordinatorId = coordinatorId;
                o.LeaseDuration = arguments.Lease;
                o.LeaseRenewalInterval = arguments.Lease / 4;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.MaxConcurrentSagas = arguments.MaxConcurrent;
                o.ShutdownTimeout = TimeSpan.FromSeconds(2);
            })
            .AddSaga<CrashSaga, CrashSagaData>()
            .UseStore(arguments);

        using IHost host = builder.Build();
        ISagaClient client = host.Services.GetRequiredService<ISagaClient>();
        ISagaStore store = host.Services.GetRequiredService<ISagaStore>();

        // READY means working: the store and the ledger answered once (connections open, schema checked, code jitted).
        await store.CountByStatusAsync(lifetime);
        await ledger.WarmUpAsync(lifetime);
        await host.StartAsync(lifetime);
        Console.WriteLine("READY " + coordinatorId);
        int exitCode = 0;
        try
        {
            for (int index = arguments.StartFrom; index < arguments.StartFrom + arguments.StartCount; index++)
            {
                await client.StartAsync(CrashPlan.For(index), new SagaStartOptions { SagaId = CrashPlan.SagaId(index) }, lifetime);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STARTED {index}"));
            }

            Console.WriteLine("STARTS DONE");
            if (arguments.ExitWhenDone)
            {
                while (true)
                {
                    IReadOnlyDictionary<SagaStatus, long> counts = await store.CountByStatusAsync(lifetime);
                    if (counts.GetValueOrDefault(SagaStatus.Running) + counts.GetValueOrDefault(SagaStatus.Compensating) == 0)
                    {
                        Console.WriteLine("DONE " + string.Join(' ', counts.OrderBy(c => c.Key).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}={c.Value}"))));
                        break;
                    }

                    await Task.Delay(s_doneCheckInterval, lifetime);
                }
            }
            else
            {
                await host.WaitForShutdownAsync(lifetime);
            }
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
            // --max-run-s passed: stop like a deployment would; with --exit-when-done that means the sagas did not finish.
            Console.WriteLine("MAX RUN TIME PASSED");
            exitCode = arguments.ExitWhenDone ? 3 : 0;
        }

        await host.StopAsync(CancellationToken.None);
        return exitCode;
    }
}
