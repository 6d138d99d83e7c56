using System.Globalization;
using System.Text.RegularExpressions;
using Caching.ProductCatalog;

namespace BuildingBlocks.Samples.Tests.ProductCatalog;

/// <summary>Runs the catalog once with the defaults (30,000 views, 12 price changes, 2 s, no journal).</summary>
public sealed class ProductCatalogRun : IAsyncLifetime
{
    internal ProductCatalogResult Result { get; private set; } = null!;

    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        Result = await new ProductCatalogDemo().RunAsync(output, TestContext.Current.CancellationToken);
        Output = output.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class ProductCatalogTests(ProductCatalogRun run) : IClassFixture<ProductCatalogRun>
{
    private ProductCatalogResult Result => run.Result;

    [Fact]
    public void RunAsync_WithDefaults_KeepsEveryPromise()
    {
        Assert.True(Result.Succeeded, string.Join(Environment.NewLine, Result.Violations) + Environment.NewLine + run.Output);
        Assert.DoesNotContain("✗", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_ViewCounters_ReachTheTableInFewerWritesThanWriteThroughWould()
    {
        Assert.Equal(30_000, Result.ViewWrites);
        Assert.InRange(Result.ViewRowsSaved, 1, Result.ViewWrites - 1);
        Assert.InRange(Result.ViewSaveCalls, 1, Result.ViewRowsSaved);
        Assert.True(Result.CoalescedWrites > 0, run.Output);

        // What the table says the sample printed: view writes as many as write-through would have sent, far fewer rows stored.
        long printedViewWrites = Number(@"^\s+View writes \(SetAsync\)\s+\| ([\d,]+)  = table writes under write-through\s*$");
        long printedRowsSaved = Number(@"^\s+View writes that reached the table\s+\| ([\d,]+)  in [\d,]+ transactions \(write-back\)\s*$");
        Assert.Equal(Result.ViewWrites, printedViewWrites);
        Assert.Equal(Result.ViewRowsSaved, printedRowsSaved);
        Assert.True(printedRowsSaved < printedViewWrites, run.Output);
        Assert.Equal(Result.CoalescedWrites, Number(@"^\s+Coalesced writes\s+\| ([\d,]+)\s*$"));
    }

    [Fact]
    public void RunAsync_EveryPriceChange_IsInTheTableWhenSetAsyncReturns()
    {
        Assert.Equal(12, Result.PriceChanges.Count);
        Assert.All(Result.PriceChanges, p => Assert.Equal(p.NewPrice, p.StoredPrice));
        Assert.Equal(12, Regex.Count(run.Output, @"^\s+\[\s*[\d.]+ s\] #\d+ .+ -> .+  in the table when SetAsync returned ✓$", RegexOptions.Multiline));
        Assert.Matches(new Regex(@"^\s+Price changes in the table on return\s+\| 12 of 12\s*$", RegexOptions.Multiline), run.Output);
    }

    [Fact]
    public void RunAsync_AfterTheFinalFlush_TheTableHoldsEveryViewAndEveryFinalPrice()
    {
        Assert.Empty(Result.Mismatches);
        Assert.Contains("The table holds every view (30,000) and every final price: ✓", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_Reads_AreOnePerRequestAndMostNeverReachTheTable()
    {
        Assert.Equal(30_012, Result.Reads);
        Assert.Equal(Result.Reads, Number(@"^\s+Reads \(GetOrLoadAsync\)\s+\| ([\d,]+)\s*$"));

        // L1 holds a tenth of the catalog and the views are skewed: the popular products stay cached.
        Assert.InRange(Result.StoreLoads, 1, Result.Reads / 2);
        Assert.Equal(Result.StoreLoads, Number(@"^\s+Store loads \(misses read from the table\)\s+\| ([\d,]+)\s*$"));
        Assert.True(Result.Evictions > 0, run.Output);
    }

    [Fact]
    public void RunAsync_WithoutJournal_StatesTheLossWindow()
    {
        Assert.False(Result.Journal);
        Assert.Contains("Loss window: a crash loses the view writes of up to the last 250 ms plus one flush", run.Output, StringComparison.Ordinal);
        Assert.Contains("Price changes: none", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WithJournal_KeepsEveryPromiseAndStatesNoLossOnACrash()
    {
        var settings = new CatalogSettings { UseJournal = true, Views = 3_000, PriceChanges = 4, Duration = TimeSpan.FromMilliseconds(600) };
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        ProductCatalogResult result = await new ProductCatalogDemo(settings).RunAsync(output, TestContext.Current.CancellationToken);

        string text = output.ToString();
        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Violations) + Environment.NewLine + text);
        Assert.True(result.Journal);
        Assert.Equal(3_000, result.ViewWrites);
        Assert.True(result.ViewRowsSaved < result.ViewWrites, text);
        Assert.Equal(4, result.PriceChangesInStoreOnReturn);
        Assert.Contains("view writes are journaled in a SQLite file before SetAsync returns", text, StringComparison.Ordinal);
        Assert.Contains("Loss window: none for a process crash", text, StringComparison.Ordinal);
        Assert.Contains("The table holds every view (3,000) and every final price: ✓", text, StringComparison.Ordinal);
    }

    private long Number(string pattern)
    {
        Match match = Regex.Match(run.Output, pattern, RegexOptions.Multiline);
        Assert.True(match.Success, $"No line matches {pattern}:{Environment.NewLine}{run.Output}");
        return long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
    }
}
