using System.Globalization;
using System.Text.RegularExpressions;
using Showcase.Sections;

namespace BuildingBlocks.Samples.Tests.Showcase;

public class ConsistentHashingSectionTests
{
    [Fact]
    public async Task RunAsync_WhenANodeJoins_ReportsThatEveryMovedKeyWentToTheNewcomer()
    {
        string output = await RunAsync();

        Match joined = Regex.Match(output, @"cache-e joins: ([\d,]+) of ([\d,]+) keys moved");
        Match toNewcomer = Regex.Match(output, @"and ([\d,]+) of them moved to cache-e");
        Assert.True(joined.Success, output);
        Assert.True(toNewcomer.Success, output);
        int moved = int.Parse(joined.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        int total = int.Parse(joined.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.Equal(moved, int.Parse(toNewcomer.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));

        // cache-e has weight 1 of 7 after it joins: about 14 % of the keys should move, not the 80 %+ of mod-n hashing.
        Assert.InRange((double)moved / total, 0.08, 0.22);
    }

    [Fact]
    public async Task RunAsync_PrintsOneRowPerAlgorithm()
    {
        string output = await RunAsync();

        foreach (string algorithm in new[] { "Ring", "Jump", "Rendezvous", "Maglev", "BoundedLoad" })
        {
            Assert.Matches(new Regex($@"^\s+{algorithm}\s+\|", RegexOptions.Multiline), output);
        }
    }

    [Fact]
    public async Task RunAsync_ListsThreeDistinctServersPerKey()
    {
        string output = await RunAsync();

        MatchCollection rows = Regex.Matches(output, @"^\s+(user|cart|session|product):\S+\s+\|\s+(\S+)\s+\|\s+(.+?)\s*$", RegexOptions.Multiline);
        Assert.Equal(6, rows.Count);
        foreach (Match row in rows)
        {
            string[] list = row.Groups[3].Value.Split(", ");
            Assert.Equal(3, list.Distinct().Count());
            Assert.Equal(row.Groups[2].Value, list[0]);
        }
    }

    private static async Task<string> RunAsync()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        await new ConsistentHashingSection().RunAsync(writer, TestContext.Current.CancellationToken);
        return writer.ToString();
    }
}
