using System.Diagnostics;
using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace TaskQueue.PizzaShop;

/// <summary>
/// One oven: a process hosting the task queue worker for queue "pizzas" on the shared SQLite file, one pizza at a
/// time. It reports READY, BAKING and BAKED lines on stdout and stops when its stdin closes (the shop hangs up).
/// </summary>
internal static class Oven
{
    public static async Task<int> RunAsync(OvenSettings settings, CancellationToken cancellationToken)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<OvenLog>();

        // The whole integration: one queue registration on the shared file, one handler, one pizza at a time.
        builder.Services.AddTaskQueue(o =>
            {
                o.WorkerId = settings.Name;
                o.LeaseDuration = settings.Lease;
                o.HeartbeatInterval = settings.Heartbeat;
                o.SweepInterval = settings.Heartbeat;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            })
            .UseSqlite(settings.Database)
            .AddHandler<BakePizza>(PizzaOrder.Queue, q => q.Concurrency = 1);

        using IHost host = builder.Build();
        await host.StartAsync(cancellationToken);
        host.Services.GetRequiredService<OvenLog>().Write(OvenEvent.Ready());

        // The shop closes our stdin when the last order is done (or when it dies itself): then stop gracefully.
        IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        _ = Task.Run(
            async () =>
            {
                while (await Console.In.ReadLineAsync(cancellationToken) is not null)
                {
                }

                lifetime.StopApplication();
            },
            cancellationToken);

        await host.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}

/// <summary>Bakes one pizza: the handler the oven's worker runs for each order it claims.</summary>
internal sealed class BakePizza(OvenSettings settings, OvenLog log) : TaskHandler<PizzaOrder>
{
    protected override async ValueTask HandleAsync(PizzaOrder pizza, TaskContext context, CancellationToken cancellationToken)
    {
        int number = log.NextPizza();
        log.Write(OvenEvent.Format(OvenEventKind.Baking, context.TaskId, context.Attempt, context.Task.LeaseToken));
        if (number == settings.PowerCutOnPizza)
        {
            // The power goes out halfway through: the process dies on the spot (SIGKILL). No handler returns, no lease is
            // handed back, and the heartbeats stop, so the lease runs out and another oven gets the order.
            await Task.Delay(settings.BakeTime / 2, cancellationToken);
            using var self = Process.GetCurrentProcess();
            self.Kill();
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        await Task.Delay(settings.BakeTime, cancellationToken);
        log.Write(OvenEvent.Format(OvenEventKind.Baked, context.TaskId, context.Attempt, context.Task.LeaseToken));
    }
}

/// <summary>The oven's stdout, which the shop reads, and its pizza count.</summary>
internal sealed class OvenLog
{
    private readonly Lock _gate = new();
    private int _pizzas;

    public int NextPizza() => Interlocked.Increment(ref _pizzas);

    public void Write(string line)
    {
        // One write per line from any handler thread; Console.Out is synchronized and flushes every line.
        lock (_gate)
        {
            Console.Out.WriteLine(line);
        }
    }
}
