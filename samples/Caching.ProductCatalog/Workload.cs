using System.Globalization;

namespace Caching.ProductCatalog;

/// <summary>One request of the traffic: a view of a product, or a new price for it.</summary>
/// <param name="AtMs">When it is sent, in milliseconds from the start.</param>
/// <param name="ProductId">The product.</param>
/// <param name="NewPrice">The new price; <see langword="null"/> for a view.</param>
internal sealed record Operation(long AtMs, int ProductId, decimal? NewPrice)
{
    public bool IsPriceChange => NewPrice is not null;
}

/// <summary>
/// The catalog and the traffic of one run, generated from a seed: views follow a Zipf distribution over the products
/// (a few are very popular, most are rarely seen), price changes hit popular products. <see cref="Expected"/> is what the
/// table must hold once every write reached it.
/// </summary>
internal sealed class Workload
{
    private static readonly string[] s_colors = ["Black", "White", "Red", "Blue", "Green", "Grey", "Yellow", "Orange", "Navy", "Teal"];
    private static readonly string[] s_materials = ["oak", "steel", "linen", "glass", "walnut", "cotton", "bamboo", "copper", "wool", "ceramic"];
    private static readonly string[] s_items = ["desk lamp", "chair", "mug", "backpack", "notebook", "kettle", "rug", "clock", "vase", "shelf"];

    private readonly double[] _cumulative;

    private Workload(IReadOnlyList<Product> catalog, IReadOnlyList<Operation> operations, IReadOnlyDictionary<int, Product> expected, double[] cumulative)
    {
        Catalog = catalog;
        Operations = operations;
        Expected = expected;
        _cumulative = cumulative;
    }

    /// <summary>The products as first stored: #1 is the most popular.</summary>
    public IReadOnlyList<Product> Catalog { get; }

    /// <summary>Every request, in the order they are sent.</summary>
    public IReadOnlyList<Operation> Operations { get; }

    /// <summary>Each product as the table must hold it after the run: its last price and every view counted.</summary>
    public IReadOnlyDictionary<int, Product> Expected { get; }

    public int Views => Operations.Count(o => !o.IsPriceChange);

    public int PriceChanges => Operations.Count(o => o.IsPriceChange);

    /// <summary>The share of views the <paramref name="top"/> most popular products are expected to get.</summary>
    public double TopShare(int top) => _cumulative[Math.Min(top, _cumulative.Length) - 1];

    public static Workload Create(CatalogSettings settings)
    {
        var random = new Random(settings.Seed);
        var catalog = new List<Product>(settings.Products);
        for (int id = 1; id <= settings.Products; id++)
        {
            int n = id - 1;
            string name = string.Create(CultureInfo.InvariantCulture, $"{s_colors[n / 10 % 10]} {s_materials[n / 100 % 10]} {s_items[n % 10]}");
            if (n >= 1_000)
            {
                name += string.Create(CultureInfo.InvariantCulture, $" {n / 1_000 + 1}");
            }

            decimal price = random.Next(5, 300) + 0.99m;
            catalog.Add(new Product(id, name, price, Views: 0));
        }

        // Zipf: the product of popularity rank n (= its id) is viewed in proportion to 1 / n^s.
        double[] cumulative = new double[settings.Products];
        double total = 0;
        for (int n = 1; n <= settings.Products; n++)
        {
            total += 1 / Math.Pow(n, settings.ZipfExponent);
            cumulative[n - 1] = total;
        }

        for (int i = 0; i < cumulative.Length; i++)
        {
            cumulative[i] /= total;
        }

        long durationMs = (long)settings.Duration.TotalMilliseconds;
        var operations = new List<Operation>(settings.Views + settings.PriceChanges);
        for (int i = 0; i < settings.Views; i++)
        {
            operations.Add(new Operation(random.NextInt64(durationMs), Sample(cumulative, random.NextDouble()), NewPrice: null));
        }

        var prices = catalog.ToDictionary(p => p.Id, p => p.Price);
        var repriced = new List<Operation>(settings.PriceChanges);
        for (int i = 0; i < settings.PriceChanges; i++)
        {
            // Popular products get repriced too, so price changes meet view writes still waiting for the store.
            int id = Sample(cumulative, random.NextDouble() * cumulative[Math.Min(20, cumulative.Length) - 1]);
            decimal factor = 1 + (random.Next(0, 2) == 0 ? -1 : 1) * random.Next(5, 21) / 100m;
            decimal price = Math.Max(0.99m, decimal.Round(prices[id] * factor, 0) - 0.01m);
            if (price == prices[id])
            {
                price += 1;
            }

            prices[id] = price;
            long at = (long)((i + 0.5) * durationMs / settings.PriceChanges);
            repriced.Add(new Operation(at, id, price));
        }

        // Price changes first among requests sent at the same millisecond; the order of views is the order drawn.
        operations = [.. operations.Concat(repriced).OrderBy(o => o.AtMs).ThenBy(o => o.IsPriceChange ? 0 : 1)];

        var expected = catalog.ToDictionary(p => p.Id);
        foreach (Operation operation in operations)
        {
            Product product = expected[operation.ProductId];
            expected[operation.ProductId] = operation.NewPrice is { } newPrice ? product with { Price = newPrice } : product with { Views = product.Views + 1 };
        }

        return new Workload(catalog, operations, expected, cumulative);
    }

    private static int Sample(double[] cumulative, double u)
    {
        int index = Array.BinarySearch(cumulative, u);
        return Math.Min(index >= 0 ? index : ~index, cumulative.Length - 1) + 1;
    }
}
