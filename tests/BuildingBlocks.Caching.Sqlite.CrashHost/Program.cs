using System.Globalization;
using System.Text;
using BuildingBlocks.Caching;
using BuildingBlocks.Caching.Sqlite;

// The child process of the journal crash test, killed with SIGKILL while it appends:
//   <journal path> <first version> [--concurrency N] [--keys K] [--max-run-s N]
// N tasks append entries of cache "crash" with versions first, first + 1, ... (each version once, key "k{version % K}",
// value "v{version}"), and print "ACK <version> ." to stdout once AppendAsync has returned. The trailing " ." marks a
// whole line, so a line cut by the kill is never taken for an acknowledgement. Logs and errors go to stderr.
if (args.Length < 2)
{
    await Console.Error.WriteLineAsync("usage: <journal path> <first version> [--concurrency N] [--keys K] [--max-run-s N]");
    return 2;
}

string path = args[0];
long first = long.Parse(args[1], CultureInfo.InvariantCulture);
int concurrency = 16;
int keys = 500;
int maxRunSeconds = 120;
for (int i = 2; i + 1 < args.Length; i += 2)
{
    int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--concurrency": concurrency = value; break;
        case "--keys": keys = value; break;
        case "--max-run-s": maxRunSeconds = value; break;
        default:
            await Console.Error.WriteLineAsync($"Unknown option '{args[i]}'.");
            return 2;
    }
}

using var lifetime = new CancellationTokenSource(TimeSpan.FromSeconds(maxRunSeconds));
await using var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = path });
long next = first - 1;
Console.WriteLine("READY");

Task[] appenders = new Task[concurrency];
for (int t = 0; t < appenders.Length; t++)
{
    appenders[t] = Task.Run(async () =>
    {
        while (!lifetime.IsCancellationRequested)
        {
            long version = Interlocked.Increment(ref next);
            byte[] key = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"\"k{version % keys}\""));
            byte[] value = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"\"v{version}\""));
            await journal.AppendAsync(new JournalEntry("crash", key, value, version), CancellationToken.None);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ACK {version} ."));
        }
    });
}

try
{
    await Task.WhenAll(appenders);
}
catch (Exception e)
{
    await Console.Error.WriteLineAsync(e.ToString());
    return 1;
}

Console.WriteLine("DONE");
return 0;
