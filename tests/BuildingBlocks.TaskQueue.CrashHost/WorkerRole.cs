using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace BuildingBlocks.TaskQueue.CrashHost;

/// <summary>
/// A hosted worker on queue "crash", on the SQLite file or the PostgreSQL schema the command line names (--store), with
/// a short lease (2 s unless --lease-ms says otherwise), fast heartbeats (every quarter lease, at most 500 ms), sweeps
/// (500 ms) and polls (100 ms). Its handler records the start and the end of its work in the ledger before it returns:
/// <c>START,&lt;taskId&gt;,&lt;worker&gt;,&lt;leaseToken&gt;,&lt;attempt&gt;</c> and <c>FINISH,…</c>.
/// </summary>
internal static class WorkerRole
{
    public const string Queue = "crash";

    public static async Task<int> RunAsync(CrashHostArguments arguments, CancellationToken lifetime)
    {
        var ledger = new Ledger(arguments.Ledger);
        string worker = arguments.WorkerName;

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddProvider(new ProtocolEventLoggerProvider());
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        builder.Services.AddTaskQueue(o =>
            {
                o.WorkerId = worker;
                o.LeaseDuration = arguments.Lease;
                o.HeartbeatInterval = TimeSpan.FromTicks(Math.Min(arguments.Lease.Ticks / 4, TimeSpan.FromMilliseconds(500).Ticks));
                o.SweepInterval = TimeSpan.FromMilliseconds(500);
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.ShutdownTimeout = TimeSpan.FromSeconds(1);
                o.DefaultMaxAttempts = 10;
            })
            .UseStore(arguments)
            .AddHandler(
                Queue,
                async (context, cancellationToken) =>
                {
                    string entry = string.Create(CultureInfo.InvariantCulture, $"{context.TaskId},{worker},{context.Task.LeaseToken},{context.Attempt}");
                    ledger.Append("START," + entry);
                    Console.WriteLine("STARTED " + entry);
                    await Task.Delay(arguments.Hold, cancellationToken);
                    ledger.Append("FINISH," + entry);
                    Console.WriteLine("FINISHED " + entry);
                },
                q => q.Concurrency = arguments.Concurrency);

        using IHost host = builder.Build();
        await host.StartAsync(lifetime);
        Console.WriteLine("READY");
        try
        {
            await host.WaitForShutdownAsync(lifetime);
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
            // --max-run-s passed: stop like a deployment would.
        }

        await host.StopAsync(CancellationToken.None);
        return 0;
    }

    /// <summary>Appends whole lines to a file, one write per line: a line the handler wrote survives SIGKILL (the OS holds it).</summary>
    private sealed class Ledger(string path)
    {
        private readonly Lock _gate = new();

        public void Append(string line)
        {
            lock (_gate)
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }
}
