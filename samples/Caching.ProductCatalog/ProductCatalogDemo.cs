using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using BuildingBlocks.Caching;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Caching.ProductCatalog;

/// <summary>
/// A product catalog in a SQLite table behind a hybrid cache. Clients view products (read the product, write its view
/// counter + 1) and now and then change a price. The hybrid policy sends a write that changes the price write-through
/// (in the table before <c>SetAsync</c> returns) and a write that only counts a view write-back (batched, and coalesced
/// with the other views of the product in the same flush interval). Every request for a product goes to one client, in
/// order, as a web farm with sticky sessions per product would: a read-modify-write of the counter by two clients at once
/// would lose views whatever the cache does.
/// </summary>
internal sealed class ProductCatalogDemo(CatalogSettings settings)
{
    public ProductCatalogDemo()
        : this(new CatalogSettings())
    {
    }

    public async Task<ProductCatalogResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"productcatalog-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            return await RunInAsync(directory, output, cancellationToken);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<ProductCatalogResult> RunInAsync(string directory, TextWriter output, CancellationToken cancellationToken)
    {
        Workload workload = Workload.Create(settings);
        string database = Path.Combine(directory, "catalog.db");
        using SqliteProductStore store = SqliteProductStore.Create(database, workload.Catalog);

        // The whole integration: one cache of Product by id with a hybrid policy, backed by the table; optionally a journal.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        ICacheBuilder<int, Product> catalog = builder.Services.AddCacheStrategies()
            .AddCache<int, Product>(o =>
            {
                o.Name = "products";
                o.L1Capacity = settings.L1Capacity;
                o.Hybrid(
                    (_, product) => product.Change == ProductChange.Views ? WriteStrategy.WriteBack : WriteStrategy.WriteThrough,
                    writeBack => writeBack.FlushInterval = settings.FlushInterval);
            })
            .WithBackingStore(_ => store);
        if (settings.UseJournal)
        {
            catalog.Caching.UseSqliteJournal(Path.Combine(directory, "write-back-journal.db"));
        }

        using IHost host = builder.Build();
        await host.StartAsync(cancellationToken);
        ICache<int, Product> cache = host.Services.GetRequiredService<ICache<int, Product>>();

        WriteIntro(output, workload, database);

        var recorder = new Recorder();
        Stopwatch clock = Stopwatch.StartNew();
        List<Operation>[] clients = [.. Enumerable.Range(0, settings.Clients).Select(_ => new List<Operation>())];
        foreach (Operation operation in workload.Operations)
        {
            clients[operation.ProductId % settings.Clients].Add(operation);
        }

        await Task.WhenAll(clients.Select(operations => Task.Run(() => RunClientAsync(operations, cache, store, clock, recorder, cancellationToken), cancellationToken)));
        TimeSpan elapsed = clock.Elapsed;

        // Everything acknowledged reaches the table; then the table must hold exactly what the traffic wrote.
        await cache.FlushAsync(cancellationToken);
        CacheStatistics statistics = cache.GetStatistics();
        StoreCounters counters = store.Counters;
        Dictionary<int, Product> rows = store.ReadAllBehindTheCache();
        List<string> mismatches = [.. workload.Expected.Values
            .Where(e => !rows.TryGetValue(e.Id, out Product? row) || row.Name != e.Name || row.Price != e.Price || row.Views != e.Views)
            .Select(e => rows.TryGetValue(e.Id, out Product? row)
                ? Invariant($"#{e.Id}: the table has price {row.Price} and {row.Views} views; the traffic wrote {e.Price} and {e.Views}")
                : Invariant($"#{e.Id}: missing from the table"))];

        PriceChangeOutcome[] priceChanges = [.. recorder.PriceChanges.OrderBy(p => p.At)];
        var result = new ProductCatalogResult(
            Reads: recorder.Reads,
            HitRatio: statistics.HitRatio,
            StoreLoads: statistics.StoreLoads,
            Evictions: statistics.Evictions,
            EvictedBeforeReuse: statistics.EvictedBeforeReuse,
            ViewWrites: recorder.ViewWrites,
            ViewRowsSaved: counters.ViewRowsSaved,
            ViewSaveCalls: counters.ViewSaveCalls,
            CoalescedWrites: statistics.CoalescedWrites,
            StoreWrites: statistics.StoreWrites,
            PriceChanges: priceChanges,
            FirstView: recorder.FirstView,
            Journal: settings.UseJournal,
            Mismatches: mismatches,
            Elapsed: elapsed,
            Violations: Check(workload, statistics, priceChanges, mismatches, recorder));

        WriteReport(output, workload, result, recorder);
        await host.StopAsync(cancellationToken);
        return result;
    }

    private static async Task RunClientAsync(List<Operation> operations, ICache<int, Product> cache, SqliteProductStore store, Stopwatch clock, Recorder recorder, CancellationToken cancellationToken)
    {
        foreach (Operation operation in operations)
        {
            long wait = operation.AtMs - clock.ElapsedMilliseconds;
            if (wait > 1)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(wait), cancellationToken);
            }

            int id = operation.ProductId;
            Product product = await cache.GetOrLoadAsync(id, cancellationToken)
                ?? throw new InvalidOperationException(Invariant($"Product #{id} is not in the catalog."));
            recorder.Read();
            long started = Stopwatch.GetTimestamp();
            if (operation.NewPrice is { } price)
            {
                await cache.SetAsync(id, product.Repriced(price), cancellationToken);
                TimeSpan took = Stopwatch.GetElapsedTime(started);
                Product? stored = store.ReadBehindTheCache(id);
                recorder.PriceChanges.Add(new PriceChangeOutcome(clock.Elapsed, id, product.Name, product.Price, price, stored?.Price, took));
                recorder.PriceChanged(took);
            }
            else
            {
                Product viewed = product.Viewed();
                await cache.SetAsync(id, viewed, cancellationToken);
                recorder.Viewed(Stopwatch.GetElapsedTime(started));
                if (recorder.IsFirstView())
                {
                    cache.TryGetLocal(id, out Product? cached);
                    recorder.FirstView = new FirstViewOutcome(id, cached?.Views ?? -1, store.ReadBehindTheCache(id)?.Views);
                }
            }
        }
    }

    private static List<string> Check(Workload workload, CacheStatistics statistics, PriceChangeOutcome[] priceChanges, List<string> mismatches, Recorder recorder)
    {
        var violations = new List<string>();
        foreach (PriceChangeOutcome change in priceChanges.Where(p => !p.InStoreOnReturn))
        {
            violations.Add(Invariant($"the price change of #{change.ProductId} to {change.NewPrice} was not in the table when SetAsync returned (it held {change.StoredPrice})"));
        }

        if (priceChanges.Length != workload.PriceChanges)
        {
            violations.Add(Invariant($"{priceChanges.Length} of {workload.PriceChanges} price changes were made"));
        }

        if (recorder.ViewWrites != workload.Views)
        {
            violations.Add(Invariant($"{recorder.ViewWrites} of {workload.Views} views were written"));
        }

        if (statistics.PendingWrites != 0 || statistics.DeadLetters != 0)
        {
            violations.Add(Invariant($"after FlushAsync {statistics.PendingWrites} writes still wait for the table and {statistics.DeadLetters} are dead letters"));
        }

        violations.AddRange(mismatches.Take(10));
        if (mismatches.Count > 10)
        {
            violations.Add(Invariant($"… and {mismatches.Count - 10} more products differ"));
        }

        return violations;
    }

    private void WriteIntro(TextWriter output, Workload workload, string database)
    {
        output.WriteLine(Invariant($"Product catalog: {settings.Products:N0} products in a SQLite table, behind a hybrid cache"));
        output.WriteLine(Invariant($"  {database}"));
        output.WriteLine(Invariant($"  cache \"products\": L1 of {settings.L1Capacity:N0} entries (W-TinyLFU); a write that changes the price goes write-through,"));
        output.WriteLine(Invariant($"  a write that only counts a view goes write-back (flushed after {settings.FlushInterval.TotalMilliseconds:0} ms, coalesced per product);"));
        output.WriteLine(settings.UseJournal
            ? "  view writes are journaled in a SQLite file before SetAsync returns (--journal)"
            : "  no journal (run with -- --journal to journal view writes before SetAsync returns)");
        output.WriteLine();
        output.WriteLine(Invariant($"Traffic: {workload.Views:N0} views and {workload.PriceChanges} price changes over {settings.Duration.TotalSeconds:0.0} s from {settings.Clients} clients."));
        output.WriteLine(Invariant($"Views follow a Zipf distribution (s = {settings.ZipfExponent:0.0#}): the 10 most popular products get {workload.TopShare(10):P0} of them, the top 100 get {workload.TopShare(100):P0}."));
        output.WriteLine();
    }

    private void WriteReport(TextWriter output, Workload workload, ProductCatalogResult result, Recorder recorder)
    {
        if (result.FirstView is { } first)
        {
            string stored = first.StoredViews is { } views ? Views(views) : "no row";
            output.WriteLine(Invariant($"First view write (product #{first.ProductId}): SetAsync returned with the cache at {Views(first.CachedViews)} and the table still at {stored} (write-back)."));
            output.WriteLine();
        }

        output.WriteLine("Price changes (write-through; view writes of the product still waiting are flushed first):");
        foreach (PriceChangeOutcome change in result.PriceChanges)
        {
            string verdict = change.InStoreOnReturn
                ? "in the table when SetAsync returned ✓"
                : Invariant($"NOT in the table when SetAsync returned ✗ (it held {change.StoredPrice})");
            output.WriteLine(Invariant($"  [{change.At.TotalSeconds,4:0.00} s] #{change.ProductId,-3} {change.Name,-26} {change.OldPrice,7:0.00} -> {change.NewPrice,7:0.00}  {verdict}"));
        }

        output.WriteLine();
        output.WriteLine(Invariant($"After the traffic ({result.Elapsed.TotalSeconds:0.0} s) and a final FlushAsync:"));
        var table = new List<(string Measure, string Value)>
        {
            ("Reads (GetOrLoadAsync)", N(result.Reads)),
            ("Hit ratio", Invariant($"{result.HitRatio:P1}")),
            ("Store loads (misses read from the table)", N(result.StoreLoads)),
            ("L1 evictions", N(result.Evictions)),
            ("View writes (SetAsync)", Invariant($"{N(result.ViewWrites)}  = table writes under write-through")),
            ("View writes that reached the table", Invariant($"{N(result.ViewRowsSaved)}  in {N(result.ViewSaveCalls)} transactions (write-back)")),
            ("Coalesced writes", N(result.CoalescedWrites)),
            ("Store writes in all (cache statistics)", N(result.StoreWrites)),
            ("Price changes in the table on return", Invariant($"{result.PriceChangesInStoreOnReturn} of {result.PriceChanges.Count}")),
            ("Mean SetAsync time: view / price change", Invariant($"{recorder.MeanViewMicroseconds:0.0} µs / {recorder.MeanPriceMicroseconds / 1000:0.0} ms")),
        };
        int width = table.Max(r => r.Measure.Length);
        output.WriteLine(Invariant($"  {"Measure".PadRight(width)} | Value"));
        output.WriteLine(Invariant($"  {new string('-', width)}-+-{new string('-', 40)}"));
        foreach ((string measure, string value) in table)
        {
            output.WriteLine(Invariant($"  {measure.PadRight(width)} | {value}"));
        }

        output.WriteLine();
        long totalViews = workload.Expected.Values.Sum(p => p.Views);
        output.WriteLine(result.Mismatches.Count == 0
            ? Invariant($"The table holds every view ({totalViews:N0}) and every final price: ✓")
            : Invariant($"The table differs from what the traffic wrote for {result.Mismatches.Count} products: ✗"));
        output.WriteLine(Invariant($"Write-back sent {(double)result.ViewRowsSaved / Math.Max(1, result.ViewWrites):P1} of the view writes to the table ({N(result.ViewWrites - result.ViewRowsSaved)} fewer rows)."));
        if (settings.UseJournal)
        {
            output.WriteLine("Loss window: none for a process crash: every view write was journaled before SetAsync returned and is replayed");
            output.WriteLine("at the next start (a power loss can lose the last journal commits: WAL, synchronous = NORMAL). Price changes: none.");
        }
        else
        {
            output.WriteLine(Invariant($"Loss window: a crash loses the view writes of up to the last {settings.FlushInterval.TotalMilliseconds:0} ms plus one flush (no journal;"));
            output.WriteLine("run with -- --journal to keep them). Price changes: none, they were in the table before SetAsync returned.");
        }
        if (result.Violations.Count > 0)
        {
            output.WriteLine(Invariant($"{result.Violations.Count} promise(s) broken:"));
            foreach (string violation in result.Violations)
            {
                output.WriteLine(Invariant($"  - {violation}"));
            }
        }
    }

    private static string Views(long count) => count == 1 ? "1 view" : Invariant($"{count:N0} views");

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>What the clients did, shared by them.</summary>
    private sealed class Recorder
    {
        private long _reads;
        private long _viewWrites;
        private long _viewTicks;
        private long _priceTicks;
        private long _priceWrites;
        private int _firstView;

        public ConcurrentBag<PriceChangeOutcome> PriceChanges { get; } = [];

        public FirstViewOutcome? FirstView { get; set; }

        public long Reads => Interlocked.Read(ref _reads);

        public long ViewWrites => Interlocked.Read(ref _viewWrites);

        public double MeanViewMicroseconds => ViewWrites == 0 ? 0 : TimeSpan.FromTicks(Interlocked.Read(ref _viewTicks)).TotalMicroseconds / ViewWrites;

        public double MeanPriceMicroseconds => _priceWrites == 0 ? 0 : TimeSpan.FromTicks(Interlocked.Read(ref _priceTicks)).TotalMicroseconds / Interlocked.Read(ref _priceWrites);

        public void Read() => Interlocked.Increment(ref _reads);

        public void Viewed(TimeSpan took)
        {
            Interlocked.Increment(ref _viewWrites);
            Interlocked.Add(ref _viewTicks, took.Ticks);
        }

        public void PriceChanged(TimeSpan took)
        {
            Interlocked.Increment(ref _priceWrites);
            Interlocked.Add(ref _priceTicks, took.Ticks);
        }

        public bool IsFirstView() => Interlocked.Exchange(ref _firstView, 1) == 0;
    }
}
