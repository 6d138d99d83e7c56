using System.Text.Json.Serialization;

namespace Caching.ProductCatalog;

/// <summary>What a write of a <see cref="Product"/> changed: the hybrid policy decides its write strategy from it.</summary>
internal enum ProductChange
{
    /// <summary>Unknown or several fields: treated as critical (write-through).</summary>
    Other = 0,

    /// <summary>Only the view counter: write-back, batched and coalesced; losing a few on a crash is acceptable.</summary>
    Views = 1,

    /// <summary>The price: write-through, in the store before <c>SetAsync</c> returns.</summary>
    Price = 2,
}

/// <summary>
/// One row of the <c>products</c> table. <see cref="Change"/> is not stored: it tells the cache's hybrid policy what
/// this version of the product changed.
/// </summary>
internal sealed record Product(int Id, string Name, decimal Price, long Views)
{
    [JsonIgnore]
    public ProductChange Change { get; init; }

    /// <summary>One more view: a non-critical write.</summary>
    public Product Viewed() => this with { Views = Views + 1, Change = ProductChange.Views };

    /// <summary>A new price: a critical write.</summary>
    public Product Repriced(decimal price) => this with { Price = price, Change = ProductChange.Price };
}
