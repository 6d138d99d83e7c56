using System.Globalization;
using System.Text.RegularExpressions;
using Showcase.Sections;

namespace BuildingBlocks.Samples.Tests.Showcase;

/// <summary>Runs the caching section once and checks what it printed.</summary>
public sealed class CachingSectionRun : IAsyncLifetime
{
    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        await new CachingSection().RunAsync(writer, TestContext.Current.CancellationToken);
        Output = writer.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class CachingSectionTests(CachingSectionRun run) : IClassFixture<CachingSectionRun>
{
    [Fact]
    public void RunAsync_ConcurrentColdReads_ShareOneLoad()
    {
        Assert.Matches(Row(@"Read-through: 50 concurrent reads, cold sku-1", "1 load", "50 callers got 10.00 from one shared load"), run.Output);
    }

    [Fact]
    public void RunAsync_WriteThrough_IsInTheStoreAndL1WhenSetAsyncReturns()
    {
        Assert.Matches(Row(@"Write-through: sku-1 price 10.00 -> 11.50", "1 write", @"in the store \(11.50\) and in L1 \(11.50\) when SetAsync returned"), run.Output);
    }

    [Fact]
    public void RunAsync_WriteAround_DropsTheKeyAndTheNextReadLoadsTheNewValue()
    {
        Assert.Matches(Row(@"Write-around \(this call\): sku-2 24.50 -> 22.00", "1 load, 1 write", "in the store, dropped from L1; the next read loaded 22.00"), run.Output);
    }

    [Fact]
    public void RunAsync_WriteBack_ReadersSeeEveryWriteAtOnceAndTheStoreGetsThemCoalesced()
    {
        Match row = Regex.Match(run.Output, @"^\s+Write-back: 1,000 views of sku-1\s+\| ([\d,]+) writes?\s+\| readers saw 1,000 at once; the store had ([\d,]+), then 1,000 after FlushAsync; ([\d,]+) coalesced\s*$", RegexOptions.Multiline);
        Assert.True(row.Success, run.Output);
        int storeWrites = Parse(row.Groups[1].Value);
        int coalesced = Parse(row.Groups[3].Value);

        // One write when the loop fits in one flush interval (200 ms), a few more on a slow machine; never one per view.
        Assert.InRange(storeWrites, 1, 10);
        Assert.InRange(Parse(row.Groups[2].Value), 0, 999);
        Assert.Equal(1_000, storeWrites + coalesced);
    }

    [Fact]
    public void RunAsync_LoadRacingAWrite_DoesNotCacheTheOldRow()
    {
        Assert.Matches(Row(@"Race: a load reads sku-3 \(7.25\), a write of 8.00 lands", "1 load, 1 write", "the load's caller got 7.25, but L1 kept the write's 8.00, not the old row"), run.Output);
    }

    [Fact]
    public void RunAsync_WriteOnNodeA_DropsNodeBsCopy()
    {
        Assert.Matches(Row(@"Backplane: node B caches sku-2, A writes 19.99", "1 load, 1 write", @"B's copy \(22.00\) was dropped; B now reads 19.99"), run.Output);
        Match b = Regex.Match(run.Output, @"^\s+B\s+\|(?:\s+[\d.]+ %?\s*\|){6}\s+(\d+) \|\s+(\d+)\s*$", RegexOptions.Multiline);
        Assert.True(b.Success, run.Output);
        Assert.Equal(0, Parse(b.Groups[1].Value));
        Assert.True(Parse(b.Groups[2].Value) > 0, run.Output);
    }

    [Fact]
    public void RunAsync_NamesTheRedisSwitch()
    {
        Assert.Contains("services.AddStackExchangeRedisCache(o => o.Configuration = \"redis:6379\")", run.Output, StringComparison.Ordinal);
        Assert.Contains(".UseRedisBackplane(\"redis:6379\") (package BuildingBlocks.Caching.Redis)", run.Output, StringComparison.Ordinal);
    }

    private static Regex Row(string step, string calls, string what) =>
        new($@"^\s+{step}\s+\| {calls}\s+\| {what}\s*$", RegexOptions.Multiline);

    private static int Parse(string value) => int.Parse(value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
}
