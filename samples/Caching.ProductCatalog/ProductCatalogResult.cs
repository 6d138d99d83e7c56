namespace Caching.ProductCatalog;

/// <summary>What one run of the <see cref="ProductCatalogDemo"/> measured and checked.</summary>
/// <param name="Reads">GetOrLoadAsync calls (one per view and per price change).</param>
/// <param name="HitRatio">The cache's hit ratio (L1 hits and reads of writes still waiting for the store).</param>
/// <param name="StoreLoads">Loads the cache sent to the table.</param>
/// <param name="Evictions">L1 evictions.</param>
/// <param name="EvictedBeforeReuse">L1 entries evicted before anyone read them.</param>
/// <param name="ViewWrites">View-counter writes the clients made (SetAsync calls): the store writes write-through would have cost.</param>
/// <param name="ViewRowsSaved">View-counter writes that reached the table (rows), as the store counted them.</param>
/// <param name="ViewSaveCalls">Store transactions that carried them.</param>
/// <param name="CoalescedWrites">Write-back writes that replaced a write to the same key still waiting.</param>
/// <param name="StoreWrites">Keys the cache wrote to the store, by every strategy.</param>
/// <param name="PriceChanges">Every price change, in the order they happened.</param>
/// <param name="FirstView">What the store and the cache held right after the first view write returned.</param>
/// <param name="Journal">Whether view writes were journaled before they were acknowledged.</param>
/// <param name="Mismatches">Products whose row after the final flush differs from what the traffic wrote; empty on success.</param>
/// <param name="Elapsed">How long the traffic took.</param>
/// <param name="Violations">Broken promises in plain words; empty on success.</param>
internal sealed record ProductCatalogResult(
    long Reads,
    double HitRatio,
    long StoreLoads,
    long Evictions,
    long EvictedBeforeReuse,
    long ViewWrites,
    long ViewRowsSaved,
    long ViewSaveCalls,
    long CoalescedWrites,
    long StoreWrites,
    IReadOnlyList<PriceChangeOutcome> PriceChanges,
    FirstViewOutcome? FirstView,
    bool Journal,
    IReadOnlyList<string> Mismatches,
    TimeSpan Elapsed,
    IReadOnlyList<string> Violations)
{
    public bool Succeeded => Violations.Count == 0;

    public int PriceChangesInStoreOnReturn => PriceChanges.Count(p => p.InStoreOnReturn);
}

/// <summary>One price change.</summary>
/// <param name="At">When SetAsync returned, from the start of the traffic.</param>
/// <param name="ProductId">The product.</param>
/// <param name="Name">Its name.</param>
/// <param name="OldPrice">The price before.</param>
/// <param name="NewPrice">The price written.</param>
/// <param name="StoredPrice">The price the table held (read behind the cache's back) right after SetAsync returned.</param>
/// <param name="Took">How long SetAsync took.</param>
internal sealed record PriceChangeOutcome(TimeSpan At, int ProductId, string Name, decimal OldPrice, decimal NewPrice, decimal? StoredPrice, TimeSpan Took)
{
    public bool InStoreOnReturn => StoredPrice == NewPrice;
}

/// <summary>The first view write: the cache had the new count at once, the table (write-back) not yet.</summary>
/// <param name="ProductId">The product.</param>
/// <param name="CachedViews">The count the cache returned right after SetAsync.</param>
/// <param name="StoredViews">The count the table held right after SetAsync.</param>
internal sealed record FirstViewOutcome(int ProductId, long CachedViews, long? StoredViews);
