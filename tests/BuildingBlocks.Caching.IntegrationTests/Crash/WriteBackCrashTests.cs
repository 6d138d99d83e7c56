using System.Diagnostics;
using System.Globalization;
using BuildingBlocks.Caching.Sqlite;
using BuildingBlocks.Testing;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Caching.IntegrationTests.Crash;

/// <summary>
/// Real crashes of a write-back cache: BuildingBlocks.Caching.CrashHost writes one value at a time through a write-back
/// cache with a long flush interval (writes wait in the buffer) over a SQLite table, prints every acknowledged write,
/// and is killed with SIGKILL at a random point. With the SQLite journal, a restart replays what the buffer held and
/// the store ends with the last acknowledged value of every key; without it, the kill loses acknowledged writes (the
/// documented loss window of write-back).
/// </summary>
public sealed class WriteBackCrashTests
{
    private const int Keys = 200;
    private const int Kills = 3;

    private static readonly TimeSpan s_flushInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_outputTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180_000)]
    public async Task WriteBackWithJournal_KilledWithSigkillAtRandomPoints_RecoveryLeavesTheLastAcknowledgedValueOfEveryKeyInTheStore()
    {
        using var directory = new TempDirectory("bb-cache-crash");
        string store = directory.File("store.db");
        string journal = directory.File("journal.db");
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        var ledger = new AcknowledgementLedger();
        var runs = new List<string>();

        for (int run = 1; run <= Kills; run++)
        {
            await using ChildProcess child = CrashHost.StartWriter(store, $"r{run}", journal, s_flushInterval, Keys, random.Next());
            string ready = await child.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), s_outputTimeout, Cancellation);

            // A random point: after some acknowledgements, before, during or after the first flush of this run.
            int minimumAcks = random.Next(50, 400);
            TimeSpan extra = TimeSpan.FromMilliseconds(random.Next(0, 2_500));
            await WaitForAcknowledgementsAsync(child, minimumAcks);
            await Task.Delay(extra, Cancellation);
            child.Kill();
            int exitCode = await child.WaitForExitAsync(TimeSpan.FromSeconds(10), Cancellation);
            Assert.True(exitCode != 0, $"the child was killed but exited with 0.{Environment.NewLine}{child.Describe()}");
            Assert.DoesNotContain("DONE .", child.Lines);

            int acknowledged = ledger.Read(child.Lines);
            Assert.True(acknowledged >= minimumAcks, child.Describe());
            runs.Add($"run {run}: {ready.TrimEnd('.', ' ')} replayed at start, {acknowledged} acknowledged, killed {extra.TotalMilliseconds:0} ms after {minimumAcks} acks");
        }

        await using (ChildProcess recovery = CrashHost.StartRecovery(store, journal))
        {
            int exitCode = await recovery.WaitForExitAsync(s_outputTimeout, Cancellation);
            Assert.True(exitCode == 0, recovery.Describe());
            Assert.Contains(recovery.Lines, line => line.StartsWith("REPLAYED ", StringComparison.Ordinal));
            Assert.Contains("STOPPED 0 0 0 .", recovery.Lines);
            runs.Add($"recovery: {recovery.Lines.First(line => line.StartsWith("REPLAYED ", StringComparison.Ordinal)).TrimEnd('.', ' ')}");
        }

        Dictionary<int, string> stored = ReadItems(store);
        (List<string> mismatches, int inFlightKept) = ledger.Compare(stored);
        (int applications, int writesAppliedTwice) = ReadApplications(store);
        string summary = $"seed {seed}; {string.Join("; ", runs)}; {ledger.Acknowledgements} acknowledged writes over {ledger.LastAcknowledged.Count} keys; "
            + $"{applications} store applications, {writesAppliedTwice} writes applied more than once (replayed after a flush the journal had not yet forgotten); "
            + $"{inFlightKept} keys hold the write in flight at a kill";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} keys differ from the acknowledged state ({summary}):{Environment.NewLine}{string.Join(Environment.NewLine, mismatches.Take(20))}");

        // Everything replayed reached the store: the journal is empty.
        await using var reopened = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = journal });
        Assert.Empty(await reopened.ReadAsync(CrashHost.CacheName, Cancellation));
    }

    /// <summary>
    /// The process is killed, then restarted on a machine whose wall clock is 10 s behind the first one's (a pod moved
    /// to another node, an NTP step back): the journal is replayed with the first run's versions, and the writes the
    /// second run acknowledges right after must still win over them, in the buffer, in the journal and in the store.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task WriteBackWithJournal_RestartedWithAClockBehindTheJournalsVersions_WritesAcknowledgedAfterTheReplayStillWin()
    {
        using var directory = new TempDirectory("bb-cache-crash");
        string store = directory.File("store.db");
        string journal = directory.File("journal.db");
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        var ledger = new AcknowledgementLedger();

        TimeSpan[] clocks = [TimeSpan.Zero, TimeSpan.FromSeconds(-10)];
        for (int run = 1; run <= clocks.Length; run++)
        {
            await using ChildProcess child = CrashHost.StartWriter(store, $"r{run}", journal, s_flushInterval, keys: 20, random.Next(), clocks[run - 1]);
            await child.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), s_outputTimeout, Cancellation);
            await WaitForAcknowledgementsAsync(child, 500);
            child.Kill();
            _ = await child.WaitForExitAsync(TimeSpan.FromSeconds(10), Cancellation);
            ledger.Read(child.Lines);
        }

        await using (ChildProcess recovery = CrashHost.StartRecovery(store, journal))
        {
            Assert.True(await recovery.WaitForExitAsync(s_outputTimeout, Cancellation) == 0, recovery.Describe());
        }

        (List<string> mismatches, _) = ledger.Compare(ReadItems(store));
        Assert.True(
            mismatches.Count == 0,
            $"seed {seed}: {mismatches.Count} keys lost the value acknowledged after the replay by a process whose clock is behind the journal's versions:{Environment.NewLine}{string.Join(Environment.NewLine, mismatches.Take(20))}");
    }

    [Fact(Timeout = 120_000)]
    public async Task WriteBackWithoutJournal_KilledWithSigkill_LosesAcknowledgedWrites()
    {
        using var directory = new TempDirectory("bb-cache-crash");
        string store = directory.File("store.db");
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        var ledger = new AcknowledgementLedger();

        await using (ChildProcess child = CrashHost.StartWriter(store, "r1", journal: null, s_flushInterval, Keys, random.Next()))
        {
            await child.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), s_outputTimeout, Cancellation);
            await WaitForAcknowledgementsAsync(child, random.Next(200, 1_000));
            child.Kill();
            _ = await child.WaitForExitAsync(TimeSpan.FromSeconds(10), Cancellation);
            ledger.Read(child.Lines);
        }

        // The same restart as with the journal: nothing to replay.
        await using (ChildProcess recovery = CrashHost.StartRecovery(store, journal: null))
        {
            Assert.Equal(0, await recovery.WaitForExitAsync(s_outputTimeout, Cancellation));
            Assert.Contains("REPLAYED 0 .", recovery.Lines);
        }

        (List<string> mismatches, _) = ledger.Compare(ReadItems(store));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"seed {seed}: {ledger.Acknowledgements} acknowledged writes over {ledger.LastAcknowledged.Count} keys; {mismatches.Count} keys lost their last acknowledged value");
        Assert.NotEmpty(mismatches);
    }

    private static async Task WaitForAcknowledgementsAsync(ChildProcess child, int count)
    {
        var waited = Stopwatch.StartNew();
        while (child.Lines.Count(line => line.StartsWith("ACK ", StringComparison.Ordinal)) < count)
        {
            Assert.False(child.HasExited, child.Describe());
            Assert.True(waited.Elapsed < s_outputTimeout, $"fewer than {count} acknowledgements within {s_outputTimeout}.{Environment.NewLine}{child.Describe()}");
            await Task.Delay(TimeSpan.FromMilliseconds(5), Cancellation);
        }
    }

    private static Dictionary<int, string> ReadItems(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT key, value FROM items";
        using SqliteDataReader reader = command.ExecuteReader();
        var items = new Dictionary<int, string>();
        while (reader.Read())
        {
            items[reader.GetInt32(0)] = reader.GetString(1);
        }

        return items;
    }

    /// <summary>How many saves reached the table, and how many (key, value) writes were applied more than once.</summary>
    private static (int Applications, int AppliedTwice) ReadApplications(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT COUNT(*) FROM applied_writes),
                   (SELECT COUNT(*) FROM (SELECT 1 FROM applied_writes GROUP BY key, value HAVING COUNT(*) > 1))
            """;
        using SqliteDataReader reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (Convert.ToInt32(reader.GetInt64(0), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetInt64(1), CultureInfo.InvariantCulture));
    }
}
