namespace Caching.ProductCatalog;

/// <summary>The catalog, the cache and the traffic of one run. The defaults run in about two seconds.</summary>
internal sealed record CatalogSettings
{
    /// <summary>Products in the table; product #1 is the most popular, #2 the next, and so on.</summary>
    public int Products { get; init; } = 1_000;

    /// <summary>L1 entries: a tenth of the catalog, so eviction has work to do.</summary>
    public int L1Capacity { get; init; } = 100;

    /// <summary>Product views (a read plus a write-back write of the counter each).</summary>
    public int Views { get; init; } = 30_000;

    /// <summary>Price changes (a read plus a write-through write each), on the 20 most popular products.</summary>
    public int PriceChanges { get; init; } = 12;

    /// <summary>How long the traffic lasts: views and price changes are spread evenly over it.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Concurrent clients; each product's requests go to one of them, in order (see <see cref="ProductCatalogDemo"/>).</summary>
    public int Clients { get; init; } = 4;

    /// <summary>The Zipf exponent of popularity: the n-th product gets views in proportion to 1 / n^s.</summary>
    public double ZipfExponent { get; init; } = 1.1;

    /// <summary>How long a view write waits in the write-back buffer; repeated views of a product within it coalesce.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Journal view writes in a SQLite file before acknowledging them (BuildingBlocks.Caching.Sqlite).</summary>
    public bool UseJournal { get; init; }

    /// <summary>Seeds the catalog and the traffic: every run with the same settings sends the same requests.</summary>
    public int Seed { get; init; } = 42;

    public static CatalogSettings Parse(IReadOnlyList<string> args)
    {
        var settings = new CatalogSettings();
        foreach (string arg in args)
        {
            settings = arg switch
            {
                "--journal" => settings with { UseJournal = true },
                _ => throw new ArgumentException($"Unknown argument '{arg}'. Usage: dotnet run --project samples/Caching.ProductCatalog [-- --journal]"),
            };
        }

        return settings;
    }
}
