using System.Text;
using Caching.ProductCatalog;

// A product catalog in a SQLite table behind a hybrid cache: price changes go write-through (in the table before
// SetAsync returns), view counters go write-back (batched and coalesced). A skewed stream of views and a few price
// changes run for two seconds; then the sample prints what the cache saved and checks the table holds every write.
//   dotnet run --project samples/Caching.ProductCatalog                 no journal
//   dotnet run --project samples/Caching.ProductCatalog -- --journal    view writes journaled in SQLite first
Console.OutputEncoding = Encoding.UTF8;
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    ProductCatalogResult result = await new ProductCatalogDemo(CatalogSettings.Parse(args)).RunAsync(Console.Out, cancellation.Token);
    return result.Succeeded ? 0 : 1;
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("Cancelled.");
    return 130;
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}
