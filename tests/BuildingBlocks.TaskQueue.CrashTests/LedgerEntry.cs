using System.Globalization;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>One line of a crash-host worker's ledger: <c>START|FINISH,taskId,worker,leaseToken,attempt</c>.</summary>
internal sealed record LedgerEntry(string Kind, long TaskId, string Worker, long LeaseToken, int Attempt)
{
    public const string Start = "START";
    public const string Finish = "FINISH";

    public static IReadOnlyList<LedgerEntry> ReadAll(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        // A SIGKILL can only cut the last line short (each line is one write); a partial line is not an entry.
        string text = File.ReadAllText(path);
        string[] lines = text.Split('\n');
        return [.. lines.Take(lines.Length - 1).Select(Parse)];
    }

    private static LedgerEntry Parse(string line)
    {
        string[] parts = line.Split(',');
        if (parts.Length != 5 || parts[0] is not (Start or Finish))
        {
            throw new FormatException($"Bad ledger line '{line}'.");
        }

        return new LedgerEntry(
            parts[0],
            long.Parse(parts[1], CultureInfo.InvariantCulture),
            parts[2],
            long.Parse(parts[3], CultureInfo.InvariantCulture),
            int.Parse(parts[4], CultureInfo.InvariantCulture));
    }
}
