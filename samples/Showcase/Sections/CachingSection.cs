using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Serialization;
using BuildingBlocks.Caching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Showcase.Rendering;

namespace Showcase.Sections;

/// <summary>
/// The cache: read-through with one load per cold key, write-through, write-around and write-back picked per write by a
/// hybrid policy, the stale-repopulation race closed, and a second node's L1 invalidated through the backplane.
/// </summary>
internal sealed class CachingSection : IShowcaseSection
{
    private const int ConcurrentReaders = 50;
    private const int Views = 1_000;

    public string Title => "BuildingBlocks.Caching: a cache in front of a database, with a write strategy per write";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var database = new ItemDatabase();
        database.Seed(new Item("sku-1", 10.00m, Views: 0), new Item("sku-2", 24.50m, Views: 0), new Item("sku-3", 7.25m, Views: 0));

        // Registered the way an app would: one typed cache per node of a two-node app, both over the same database and
        // connected by the in-process backplane. A price change is critical (write-through); a view only counts (write-back).
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        ICachingBuilder caching = builder.Services.AddCacheStrategies().UseInMemoryBackplane();
        caching.AddCache<string, Item>(o => Configure(o)).WithBackingStore(_ => database);
        caching.AddCache<string, Item>("node-b", o => Configure(o)).WithBackingStore(_ => database);
        using IHost host = builder.Build();
        await host.StartAsync(cancellationToken);
        ICache<string, Item> cache = host.Services.GetRequiredService<ICache<string, Item>>();
        ICache<string, Item> nodeB = host.Services.GetRequiredKeyedService<ICache<string, Item>>("node-b");

        output.WriteLine("Cache \"items\" (string -> Item) over an in-memory database, L1 W-TinyLFU, 5 min expiry; hybrid policy:");
        output.WriteLine("a write that changes only the view counter is write-back (flushed after 200 ms), every other write is write-through.");
        output.WriteLine();
        var steps = new Table("Step", "Store calls", "What happened");

        // Read-through: concurrent misses of one key share one load.
        database.HoldLoads();
        ValueTask<Item?>[] readers = [.. Enumerable.Range(0, ConcurrentReaders).Select(_ => cache.GetOrLoadAsync("sku-1", cancellationToken))];
        database.ReleaseLoads();
        Item?[] read = await Task.WhenAll(readers.Select(r => r.AsTask()));
        steps.Add(
            Invariant($"Read-through: {ConcurrentReaders} concurrent reads, cold sku-1"),
            Calls(database, 0, 0),
            Invariant($"{read.Count(i => i?.Price == 10.00m)} callers got 10.00 from one shared load"));

        // Write-through: the store has it when SetAsync returns, and so does L1.
        (long loads, long writes) = (database.Loads, database.RowsWritten);
        Item sku1 = (await cache.GetOrLoadAsync("sku-1", cancellationToken))!;
        await cache.SetAsync("sku-1", sku1.Repriced(11.50m), cancellationToken);
        bool inL1 = cache.TryGetLocal("sku-1", out Item? cached) && cached.Price == 11.50m;
        steps.Add(
            "Write-through: sku-1 price 10.00 -> 11.50",
            Calls(database, loads, writes),
            Invariant($"in the store ({database.Read("sku-1")?.Price:0.00}) and in L1 ({(inL1 ? "11.50" : "missing")}) when SetAsync returned"));

        // Write-around: the store is written, every cache layer forgets the key, the next read loads it.
        Item sku2 = (await cache.GetOrLoadAsync("sku-2", cancellationToken))!;
        (loads, writes) = (database.Loads, database.RowsWritten);
        await cache.SetAsync("sku-2", sku2.Repriced(22.00m), WriteStrategy.WriteAround, cancellationToken);
        bool droppedFromL1 = !cache.TryGetLocal("sku-2", out _);
        Item? reloaded = await cache.GetOrLoadAsync("sku-2", cancellationToken);
        steps.Add(
            "Write-around (this call): sku-2 24.50 -> 22.00",
            Calls(database, loads, writes),
            Invariant($"in the store, {(droppedFromL1 ? "dropped from L1" : "still in L1")}; the next read loaded {reloaded?.Price:0.00}"));

        // Write-back: many writes of one key become one store write; readers see each at once.
        (loads, writes) = (database.Loads, database.RowsWritten);
        CacheStatistics before = cache.GetStatistics();
        for (int i = 0; i < Views; i++)
        {
            Item current = (await cache.GetOrLoadAsync("sku-1", cancellationToken))!;
            await cache.SetAsync("sku-1", current.Viewed(), cancellationToken);
        }

        long viewsSeen = (await cache.GetOrLoadAsync("sku-1", cancellationToken))!.Views;
        long storedBeforeFlush = database.Read("sku-1")?.Views ?? -1;
        await cache.FlushAsync(cancellationToken);
        CacheStatistics after = cache.GetStatistics();
        steps.Add(
            Invariant($"Write-back: {Views:N0} views of sku-1"),
            Calls(database, loads, writes),
            Invariant($"readers saw {viewsSeen:N0} at once; the store had {storedBeforeFlush:N0}, then {database.Read("sku-1")?.Views:N0} after FlushAsync; {after.CoalescedWrites - before.CoalescedWrites:N0} coalesced"));

        // The stale-repopulation race: a load reads the old row, a write lands, then the load finishes.
        (loads, writes) = (database.Loads, database.RowsWritten);
        await cache.InvalidateAsync("sku-3", cancellationToken);
        Task readTheRow = database.PauseNextLoadAfterRead();
        Task<Item?> slowLoad = cache.GetOrLoadAsync("sku-3", cancellationToken).AsTask();
        await readTheRow.WaitAsync(cancellationToken);
        Item sku3 = database.Read("sku-3")!;
        await cache.SetAsync("sku-3", sku3.Repriced(8.00m), cancellationToken);
        database.ReleaseLoads();
        Item? loadedOld = await slowLoad;
        cache.TryGetLocal("sku-3", out Item? afterRace);
        steps.Add(
            "Race: a load reads sku-3 (7.25), a write of 8.00 lands",
            Calls(database, loads, writes),
            Invariant($"the load's caller got {loadedOld?.Price:0.00}, but L1 kept the write's {afterRace?.Price:0.00}, not the old row"));

        // A second node: its L1 copy is dropped when the first node writes, so it reads the new price.
        Item onB = (await nodeB.GetOrLoadAsync("sku-2", cancellationToken))!;
        Item onA = (await cache.GetOrLoadAsync("sku-2", cancellationToken))!;
        (loads, writes) = (database.Loads, database.RowsWritten);
        await cache.SetAsync("sku-2", onA.Repriced(19.99m), cancellationToken);
        bool bDropped = !nodeB.TryGetLocal("sku-2", out _);
        Item? bNow = await nodeB.GetOrLoadAsync("sku-2", cancellationToken);
        steps.Add(
            "Backplane: node B caches sku-2, A writes 19.99",
            Calls(database, loads, writes),
            Invariant($"B's copy ({onB.Price:0.00}) was {(bDropped ? "dropped" : "kept")}; B now reads {bNow?.Price:0.00}"));

        steps.WriteTo(output);

        output.WriteLine("Statistics of each node:");
        var statistics = new Table("Node", "Hits", "Misses", "Hit ratio", "Store loads", "Store writes", "Coalesced", "Invalidations sent", "Invalidations received");
        foreach ((string node, ICache<string, Item> c) in new[] { ("A", cache), ("B", nodeB) })
        {
            CacheStatistics s = c.GetStatistics();
            statistics.Add(node, s.Hits, s.Misses, s.HitRatio.ToString("P1", CultureInfo.InvariantCulture), s.StoreLoads, s.StoreWrites, s.CoalescedWrites, s.InvalidationsSent, s.InvalidationsReceived);
        }

        statistics.WriteTo(output);
        output.WriteLine("Without a journal a crash loses the write-back writes of the last flush interval; .UseSqliteJournal(path) (package");
        output.WriteLine("BuildingBlocks.Caching.Sqlite) keeps them. See docs/caching.md and samples/Caching.ProductCatalog.");
        output.WriteLine("Across machines, add two lines: services.AddStackExchangeRedisCache(o => o.Configuration = \"redis:6379\") makes Redis the L2");
        output.WriteLine("(any IDistributedCache is), and .UseRedisBackplane(\"redis:6379\") (package BuildingBlocks.Caching.Redis) carries the");
        output.WriteLine("invalidations between nodes; the caches, the policy and this code stay the same.");
        await host.StopAsync(cancellationToken);
    }

    private static void Configure(CacheOptions<string, Item> options)
    {
        options.Name = "items";
        options.Hybrid(
            (_, item) => item.OnlyViewsChanged ? WriteStrategy.WriteBack : WriteStrategy.WriteThrough,
            writeBack => writeBack.FlushInterval = TimeSpan.FromMilliseconds(200));
    }

    /// <summary>The store calls since the counts were taken, e.g. "1 load, 2 writes".</summary>
    private static string Calls(ItemDatabase database, long loadsBefore, long writesBefore)
    {
        static string Count(long n, string what) => n == 1 ? Invariant($"1 {what}") : Invariant($"{n:N0} {what}s");
        long loads = database.Loads - loadsBefore;
        long writes = database.RowsWritten - writesBefore;
        return (loads, writes) switch
        {
            (0, 0) => "none",
            (_, 0) => Count(loads, "load"),
            (0, _) => Count(writes, "write"),
            _ => Count(loads, "load") + ", " + Count(writes, "write"),
        };
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>A catalog item. <see cref="OnlyViewsChanged"/> is not data: it tells the hybrid policy what a write changed.</summary>
    private sealed record Item(string Sku, decimal Price, long Views)
    {
        [JsonIgnore]
        public bool OnlyViewsChanged { get; init; }

        public Item Viewed() => this with { Views = Views + 1, OnlyViewsChanged = true };

        public Item Repriced(decimal price) => this with { Price = price, OnlyViewsChanged = false };
    }

    /// <summary>
    /// The database: rows in memory, counted loads and writes, and two levers for the demo: hold every load until
    /// released, or let the next load read its row and then wait.
    /// </summary>
    private sealed class ItemDatabase : IBackingStore<string, Item>
    {
        private readonly ConcurrentDictionary<string, Item> _rows = new(StringComparer.Ordinal);
        private TaskCompletionSource _release = Released();
        private TaskCompletionSource? _pausedAfterRead;
        private long _loads;
        private long _rowsWritten;

        public long Loads => Interlocked.Read(ref _loads);

        public long RowsWritten => Interlocked.Read(ref _rowsWritten);

        public void Seed(params Item[] items)
        {
            foreach (Item item in items)
            {
                _rows[item.Sku] = item;
            }
        }

        public Item? Read(string sku) => _rows.TryGetValue(sku, out Item? item) ? item : null;

        public void HoldLoads() => Volatile.Write(ref _release, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        public void ReleaseLoads() => Volatile.Read(ref _release).TrySetResult();

        /// <summary>The next load reads its row, completes the returned task, then waits for <see cref="ReleaseLoads"/>.</summary>
        public Task PauseNextLoadAfterRead()
        {
            HoldLoads();
            var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _pausedAfterRead, read);
            return read.Task;
        }

        public async ValueTask<LoadResult<Item>> LoadAsync(string key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _loads);
            Item? row = Read(key);
            Interlocked.Exchange(ref _pausedAfterRead, null)?.TrySetResult();
            await Volatile.Read(ref _release).Task.WaitAsync(cancellationToken);
            return row is null ? LoadResult<Item>.NotFound : row;
        }

        public async ValueTask<IReadOnlyDictionary<string, Item>> LoadManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
        {
            var found = new Dictionary<string, Item>(StringComparer.Ordinal);
            foreach (string key in keys)
            {
                if ((await LoadAsync(key, cancellationToken)) is { HasValue: true } row)
                {
                    found[key] = row.Value;
                }
            }

            return found;
        }

        public ValueTask SaveAsync(IReadOnlyList<KeyValuePair<string, Item>> entries, CancellationToken cancellationToken)
        {
            foreach ((string key, Item item) in entries)
            {
                _rows[key] = item with { OnlyViewsChanged = false };
                Interlocked.Increment(ref _rowsWritten);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
        {
            foreach (string key in keys)
            {
                _rows.TryRemove(key, out _);
                Interlocked.Increment(ref _rowsWritten);
            }

            return ValueTask.CompletedTask;
        }

        private static TaskCompletionSource Released()
        {
            var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            released.SetResult();
            return released;
        }
    }
}
