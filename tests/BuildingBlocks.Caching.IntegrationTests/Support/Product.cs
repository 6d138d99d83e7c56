namespace BuildingBlocks.Caching.IntegrationTests.Support;

/// <summary>The cached value of the two-node tests; <see cref="Revision"/> tells versions of one product apart.</summary>
public sealed record Product(int Id, string Name, long Revision)
{
    public static Product Of(int id, long revision) => new(id, $"product {id}", revision);
}
