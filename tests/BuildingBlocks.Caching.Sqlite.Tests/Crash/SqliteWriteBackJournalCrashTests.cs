using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Caching.Sqlite.Tests.Crash;

/// <summary>
/// A real crash: a child process (BuildingBlocks.Caching.Sqlite.CrashHost) appends from many tasks and prints every
/// acknowledged append; it is killed with SIGKILL mid-stream, and every acknowledged append must be in the journal.
/// </summary>
public sealed partial class SqliteWriteBackJournalCrashTests
{
    private const int Keys = 500;
    private const int Kills = 3;
    private const int AcksBeforeKill = 3_000;

    private static readonly TimeSpan s_outputTimeout = TimeSpan.FromSeconds(60);

    private static string CrashHostPath { get; } =
        typeof(SqliteWriteBackJournalCrashTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "CrashHostPath")?.Value
        ?? throw new InvalidOperationException("The test assembly has no CrashHostPath metadata; build BuildingBlocks.Caching.Sqlite.Tests with its csproj.");

    [Fact(Timeout = 180_000)]
    public async Task Appender_KilledWithSigkillMidStream_EveryAcknowledgedAppendIsInTheJournal()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("bb-journal-crash");
        string path = directory.File("journal.db");

        // Newest acknowledged version per key over every run; versions never repeat across runs.
        var acknowledged = new Dictionary<string, long>();
        long highestStarted = 0;
        int totalAcks = 0;
        for (int run = 1; run <= Kills; run++)
        {
            long first = (run * 10_000_000L) + 1;
            await using ChildProcess child = ChildProcess.StartDotnet(
                CrashHostPath, path, first.ToString(CultureInfo.InvariantCulture), "--concurrency", "32", "--keys", Keys.ToString(CultureInfo.InvariantCulture), "--max-run-s", "120");

            // Killed while appends are in flight: 32 tasks keep appending until the kill. The output is polled, not
            // waited for line by line, so the pipe never fills and the child never pauses with everything committed.
            await child.WaitForLineAsync(line => line == "READY", s_outputTimeout, cancellationToken);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (child.Lines.Count < AcksBeforeKill + 1)
            {
                Assert.False(child.HasExited, child.Describe());
                Assert.True(waited.Elapsed < s_outputTimeout, $"fewer than {AcksBeforeKill} acknowledgements within {s_outputTimeout}.{Environment.NewLine}{child.Describe()}");
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken);
            }

            child.Kill();
            int exitCode = await child.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            Assert.True(exitCode != 0, $"the child was killed but exited with 0.{Environment.NewLine}{child.Describe()}");
            Assert.DoesNotContain("DONE", child.Lines);

            int runAcks = 0;
            foreach (string line in child.Lines)
            {
                Match match = AckLine().Match(line);
                if (!match.Success)
                {
                    continue;
                }

                long version = long.Parse(match.Groups["version"].Value, CultureInfo.InvariantCulture);
                string key = KeyOf(version);
                acknowledged[key] = Math.Max(acknowledged.GetValueOrDefault(key), version);
                runAcks++;
            }

            Assert.True(runAcks >= AcksBeforeKill, child.Describe());
            totalAcks += runAcks;
            highestStarted = first + 10_000_000L;
        }

        // Reopened after the kills (SQLite recovers the write-ahead log the dead process left behind).
        await using var journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = path });
        Dictionary<string, JournalEntry> stored = (await journal.ReadAsync("crash", cancellationToken))
            .ToDictionary(e => Encoding.UTF8.GetString(e.Key).Trim('"'));

        Assert.True(totalAcks >= AcksBeforeKill * Kills, $"only {totalAcks} acknowledgements over {Kills} runs");
        foreach ((string key, long version) in acknowledged)
        {
            Assert.True(stored.TryGetValue(key, out JournalEntry? entry), $"key {key} was acknowledged at version {version} but is not in the journal");
            Assert.True(entry.Version >= version, $"key {key} was acknowledged at version {version} but the journal holds version {entry.Version}");
            Assert.Equal($"\"v{entry.Version}\"", Encoding.UTF8.GetString(entry.Value!));
            Assert.Equal(key, KeyOf(entry.Version));
        }

        Assert.All(stored.Values, e => Assert.InRange(e.Version, 1, highestStarted));
    }

    private static string KeyOf(long version) => string.Create(CultureInfo.InvariantCulture, $"k{version % Keys}");

    [GeneratedRegex(@"^ACK (?<version>\d+) \.$")]
    private static partial Regex AckLine();
}
