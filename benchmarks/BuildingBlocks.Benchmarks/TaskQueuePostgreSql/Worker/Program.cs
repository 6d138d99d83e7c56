using System.Globalization;
using BuildingBlocks.Benchmarks.PostgreSqlWorker;
using BuildingBlocks.TaskQueue;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The worker process of PostgreSqlQueuePickupLatencyBenchmarks:
//   dotnet BuildingBlocks.Benchmarks.PostgreSqlWorker.dll <buildingblocks|hangfire> <schema> <queue> <concurrency>
// with the connection string in BUILDINGBLOCKS_BENCH_PG_WORKER. Prints READY once the worker runs, then
// "START <Stopwatch.GetTimestamp()>" as the first statement of every handler; stops gracefully when stdin closes.
if (args.Length != 4 || Environment.GetEnvironmentVariable("BUILDINGBLOCKS_BENCH_PG_WORKER") is not { Length: > 0 } connectionString)
{
    Console.Error.WriteLine("usage: BuildingBlocks.Benchmarks.PostgreSqlWorker <buildingblocks|hangfire> <schema> <queue> <concurrency> (connection string in BUILDINGBLOCKS_BENCH_PG_WORKER)");
    return 2;
}

string mode = args[0];
string schema = args[1];
string queue = args[2];
int concurrency = int.Parse(args[3], CultureInfo.InvariantCulture);

// Stops when the benchmark closes stdin (or dies); a worker left behind by accident ends after 30 min.
Task stdinClosed = Task.Run(async () =>
{
    using Stream stdin = Console.OpenStandardInput();
    await stdin.CopyToAsync(Stream.Null);
});
Task stop = Task.WhenAny(stdinClosed, Task.Delay(TimeSpan.FromMinutes(30)));

switch (mode)
{
    case "buildingblocks":
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue()
            .UsePostgreSql(connectionString, o => o.Schema = schema)
            .AddHandler(queue, static (_, _) =>
            {
                WorkerJobs.SignalStart();
                return ValueTask.CompletedTask;
            }, o => o.Concurrency = concurrency);
        using IHost host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("READY");
        await stop;
        await host.StopAsync();
        return 0;
    }

    case "hangfire":
    {
        // The benchmark enqueues BuildingBlocks.Benchmarks.PostgreSql.PostgreSqlHangfireJobs.SignalStart(); run ours instead.
        GlobalConfiguration.Configuration.UseTypeResolver(WorkerJobs.ResolveType);
        var options = new PostgreSqlStorageOptions { SchemaName = schema, PrepareSchemaIfNecessary = true, EnableLongPolling = true };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);

        // As HangfireFixture.StartServer in the benchmark project: the worker count, and the other intervals shortened.
        using var server = new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                WorkerCount = concurrency,
                SchedulePollingInterval = TimeSpan.FromSeconds(1),
                ServerCheckInterval = TimeSpan.FromSeconds(5),
                HeartbeatInterval = TimeSpan.FromSeconds(5),
                CancellationCheckInterval = TimeSpan.FromSeconds(5),
            },
            storage);
        Console.WriteLine("READY");
        await stop;
        server.SendStop();
        return 0;
    }

    default:
        Console.Error.WriteLine($"unknown mode '{mode}': buildingblocks or hangfire");
        return 2;
}
