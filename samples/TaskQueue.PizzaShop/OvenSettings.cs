using System.Globalization;

namespace TaskQueue.PizzaShop;

/// <summary>
/// How one oven process runs: <c>oven &lt;db&gt; &lt;name&gt; [--bake-ms N] [--lease-ms N] [--power-cut-on N]</c>.
/// The shop builds these arguments; the oven parses them back.
/// </summary>
internal sealed class OvenSettings
{
    /// <summary>The SQLite file the orders are in.</summary>
    public required string Database { get; init; }

    /// <summary>The oven's name, stored as the worker id of its leases.</summary>
    public required string Name { get; init; }

    /// <summary>How long one pizza bakes.</summary>
    public TimeSpan BakeTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The lease on an order: an oven that stops heartbeating loses its pizza this long after its last heartbeat.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The heartbeat (and sweep) interval: an eighth of the lease, so a busy machine never costs a live oven its pizza.</summary>
    public TimeSpan Heartbeat => Lease / 8;

    /// <summary>The power goes out halfway through this oven's n-th pizza (1-based); <see langword="null"/>: never.</summary>
    public int? PowerCutOnPizza { get; init; }

    public static OvenSettings Parse(IReadOnlyList<string> args)
    {
        if (args.Count < 2)
        {
            throw new ArgumentException("usage: oven <db> <name> [--bake-ms N] [--lease-ms N] [--power-cut-on N]");
        }

        TimeSpan bake = TimeSpan.FromSeconds(1);
        TimeSpan lease = TimeSpan.FromSeconds(2);
        int? powerCut = null;
        for (int i = 2; i < args.Count; i += 2)
        {
            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"Option {args[i]} needs a value.");
            }

            int value = int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
                ? n
                : throw new ArgumentException($"{args[i]} must be a positive integer; it was '{args[i + 1]}'.");
            switch (args[i])
            {
                case "--bake-ms":
                    bake = TimeSpan.FromMilliseconds(value);
                    break;
                case "--lease-ms":
                    lease = TimeSpan.FromMilliseconds(value);
                    break;
                case "--power-cut-on":
                    powerCut = value;
                    break;
                default:
                    throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }

        return new OvenSettings { Database = args[0], Name = args[1], BakeTime = bake, Lease = lease, PowerCutOnPizza = powerCut };
    }

    public IReadOnlyList<string> ToArguments()
    {
        List<string> args = ["oven", Database, Name, "--bake-ms", Ms(BakeTime), "--lease-ms", Ms(Lease)];
        if (PowerCutOnPizza is { } n)
        {
            args.AddRange(["--power-cut-on", n.ToString(CultureInfo.InvariantCulture)]);
        }

        return args;
    }

    private static string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
