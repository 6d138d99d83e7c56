using System.Globalization;
using BuildingBlocks.Caching;
using BuildingBlocks.Caching.CrashHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

// The child process of the write-back crash tests. A write-back cache "items" (int -> string) over a SQLite table in
// its own file (SqliteTableStore), started and stopped by a generic host:
//   run     <store.db> <tag> [--journal <journal.db>] [--flush-ms N] [--keys K] [--seed S] [--max-run-s N] [--clock-offset-ms N]
//   recover <store.db> [--journal <journal.db>] [--flush-ms N]
// "run" prints READY once the host has started (the journal replayed), then writes one value at a time, for ever:
// write i sets a random key in 1..K to "<tag>-<i>", printing "BEGIN <key> <value> ." before SetAsync and
// "ACK <key> <value> ." once it has returned. It is meant to be killed with SIGKILL. "recover" starts the host (the
// journal is replayed), prints "REPLAYED <pending writes>", stops it (the buffer is flushed) and prints
// "STOPPED <pending> <flush failures> <dead letters>". The trailing " ." marks a whole line, so a line cut by the kill is
// never taken for an acknowledgement. --clock-offset-ms shifts the wall clock the cache sees (a machine whose clock is
// behind another's). Logs go to stderr.
if (args.Length < 2 || args[0] is not ("run" or "recover"))
{
    await Console.Error.WriteLineAsync("usage: run <store.db> <tag> [--journal <path>] [--flush-ms N] [--keys K] [--seed S] [--max-run-s N] [--clock-offset-ms N] | recover <store.db> [--journal <path>] [--flush-ms N]");
    return 2;
}

bool recover = args[0] == "recover";
string storePath = args[1];
int first = 2;
string tag = "r";
if (!recover)
{
    if (args.Length < 3)
    {
        await Console.Error.WriteLineAsync("run needs a tag.");
        return 2;
    }

    tag = args[2];
    first = 3;
}

string? journalPath = null;
int flushMs = 2_000;
int keys = 200;
int seed = Environment.TickCount;
int maxRunSeconds = 120;
long clockOffsetMs = 0;
for (int i = first; i + 1 < args.Length; i += 2)
{
    string value = args[i + 1];
    switch (args[i])
    {
        case "--journal": journalPath = value; break;
        case "--flush-ms": flushMs = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--keys": keys = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--max-run-s": maxRunSeconds = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--clock-offset-ms": clockOffsetMs = long.Parse(value, CultureInfo.InvariantCulture); break;
        default:
            await Console.Error.WriteLineAsync($"Unknown option '{args[i]}'.");
            return 2;
    }
}

HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));

if (clockOffsetMs != 0)
{
    builder.Services.AddSingleton<TimeProvider>(new OffsetTimeProvider(TimeSpan.FromMilliseconds(clockOffsetMs)));
}

ICachingBuilder caching = builder.Services.AddCacheStrategies();
if (journalPath is not null)
{
    caching.UseSqliteJournal(journalPath);
}

caching.AddCache<int, string>(o =>
    {
        o.Name = "items";
        o.WriteBack(wb =>
        {
            wb.FlushInterval = TimeSpan.FromMilliseconds(flushMs);
            wb.ShutdownTimeout = TimeSpan.FromSeconds(30);
        });
    })
    .WithBackingStore(_ => new SqliteTableStore(storePath));

using IHost host = builder.Build();
using var lifetime = new CancellationTokenSource(TimeSpan.FromSeconds(maxRunSeconds));
await host.StartAsync(lifetime.Token);
ICache<int, string> cache = host.Services.GetRequiredService<ICache<int, string>>();

if (recover)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"REPLAYED {cache.GetStatistics().PendingWrites} ."));
    await host.StopAsync(lifetime.Token);
    CacheStatistics stopped = cache.GetStatistics();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STOPPED {stopped.PendingWrites} {stopped.FlushFailures} {stopped.DeadLetters} ."));
    return 0;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {cache.GetStatistics().PendingWrites} ."));
var random = new Random(seed);
for (long i = 1; !lifetime.IsCancellationRequested; i++)
{
    int key = random.Next(1, keys + 1);
    string value = string.Create(CultureInfo.InvariantCulture, $"{tag}-{i}");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BEGIN {key} {value} ."));
    await cache.SetAsync(key, value, CancellationToken.None);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ACK {key} {value} ."));
}

// Not killed within --max-run-s: a graceful stop flushes everything.
await host.StopAsync(CancellationToken.None);
Console.WriteLine("DONE .");
return 0;
