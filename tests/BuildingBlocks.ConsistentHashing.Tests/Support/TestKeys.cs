using System.Text;

namespace BuildingBlocks.ConsistentHashing.Tests.Support;

/// <summary>Deterministic keys and owner snapshots shared by the tests.</summary>
internal static class TestKeys
{
    /// <summary>Keys that exercise the string paths: empty, non-ASCII, a surrogate pair and keys longer than the 128-char stack buffer.</summary>
    public static readonly string[] Special =
    [
        string.Empty,
        "a",
        "user:42",
        "ключ",
        "キー",
        "🔑 emoji key",
        new string('x', 128),
        new string('€', 128),
        new string('x', 129),
        new string('é', 300) + "ключ",
    ];

    public static string[] Create(int count, string prefix = "key-") =>
        [.. Enumerable.Range(0, count).Select(i => $"{prefix}{i}")];

    public static string[] Nodes(int count, string prefix = "node-") =>
        [.. Enumerable.Range(0, count).Select(i => $"{prefix}{i:D3}")];

    public static string[] Owners(IConsistentHash<string> hash, IReadOnlyList<string> keys)
    {
        var owners = new string[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            owners[i] = hash.GetNode(keys[i]);
        }

        return owners;
    }

    public static string[][] PreferenceLists(IConsistentHash<string> hash, IReadOnlyList<string> keys, int count)
    {
        var lists = new string[keys.Count][];
        for (int i = 0; i < keys.Count; i++)
        {
            lists[i] = hash.GetNodes(keys[i], count);
        }

        return lists;
    }

    public static byte[] Utf8(string key) => Encoding.UTF8.GetBytes(key);

    /// <summary>Fisher–Yates with a fixed seed, so a "different order" is the same different order on every run.</summary>
    public static T[] Shuffle<T>(IEnumerable<T> items, int seed)
    {
        T[] copy = [.. items];
        var random = new Random(seed);
        for (int i = copy.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }

        return copy;
    }
}
