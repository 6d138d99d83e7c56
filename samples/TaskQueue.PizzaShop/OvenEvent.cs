using System.Globalization;

namespace TaskQueue.PizzaShop;

/// <summary>What an oven process reports on its stdout, one line per event.</summary>
internal enum OvenEventKind
{
    /// <summary>"READY": the oven's worker is running.</summary>
    Ready,

    /// <summary>"BAKING id attempt token": the oven claimed an order and put it in.</summary>
    Baking,

    /// <summary>"BAKED id attempt token": the pizza came out; the worker completes the task next.</summary>
    Baked,

    /// <summary>Not a line: the oven process ended (its exit code is in <see cref="OvenEvent.ExitCode"/>).</summary>
    Exited,
}

/// <summary>One event of one oven, as the shop saw it.</summary>
internal sealed record OvenEvent(string Oven, OvenEventKind Kind, long OrderId = 0, int Attempt = 0, long LeaseToken = 0, int? ExitCode = null)
{
    public static string Ready() => "READY";

    public static string Format(OvenEventKind kind, long orderId, int attempt, long leaseToken) =>
        string.Create(CultureInfo.InvariantCulture, $"{kind.ToString().ToUpperInvariant()} {orderId} {attempt} {leaseToken}");

    /// <summary>Parses a stdout line of <paramref name="oven"/>; <see langword="null"/> for lines that are not events.</summary>
    public static OvenEvent? Parse(string oven, string line)
    {
        if (line == "READY")
        {
            return new OvenEvent(oven, OvenEventKind.Ready);
        }

        string[] parts = line.Split(' ');
        if (parts.Length != 4
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long id)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int attempt)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long token))
        {
            return null;
        }

        return parts[0] switch
        {
            "BAKING" => new OvenEvent(oven, OvenEventKind.Baking, id, attempt, token),
            "BAKED" => new OvenEvent(oven, OvenEventKind.Baked, id, attempt, token),
            _ => null,
        };
    }
}
