using System.IO.Hashing;
using System.Text;

namespace BuildingBlocks.Benchmarks.ConsistentHashing;

/// <summary>
/// The ring most people write by hand: positions in a sorted ulong[], owners alongside,
/// Array.BinarySearch per lookup. The baseline every ring benchmark is measured against.
/// </summary>
public sealed class NaiveSortedRing
{
    private ulong[] _positions = [];
    private string[] _owners = [];

    public NaiveSortedRing(IEnumerable<string> nodes, int virtualNodes)
    {
        var points = new List<(ulong Position, string Owner)>();
        foreach (string node in nodes)
        {
            for (int r = 0; r < virtualNodes; r++)
            {
                points.Add((XxHash3.HashToUInt64(Encoding.UTF8.GetBytes($"{node}#{r}")), node));
            }
        }

        Rebuild(points);
    }

    public string GetNode(ReadOnlySpan<byte> key) => GetNode(XxHash3.HashToUInt64(key));

    public string GetNode(ulong hash)
    {
        int i = Array.BinarySearch(_positions, hash);
        if (i < 0)
        {
            i = ~i;
        }

        return _owners[i == _positions.Length ? 0 : i];
    }

    /// <summary>Adding a node the hand-rolled way: append its points and sort everything again.</summary>
    public void Add(string node, int virtualNodes)
    {
        var points = new List<(ulong Position, string Owner)>(_positions.Length + virtualNodes);
        for (int i = 0; i < _positions.Length; i++)
        {
            points.Add((_positions[i], _owners[i]));
        }

        for (int r = 0; r < virtualNodes; r++)
        {
            points.Add((XxHash3.HashToUInt64(Encoding.UTF8.GetBytes($"{node}#{r}")), node));
        }

        Rebuild(points);
    }

    public void Remove(string node)
    {
        var points = new List<(ulong Position, string Owner)>(_positions.Length);
        for (int i = 0; i < _positions.Length; i++)
        {
            if (!ReferenceEquals(_owners[i], node) && _owners[i] != node)
            {
                points.Add((_positions[i], _owners[i]));
            }
        }

        Rebuild(points);
    }

    private void Rebuild(List<(ulong Position, string Owner)> points)
    {
        points.Sort((a, b) => a.Position.CompareTo(b.Position));
        _positions = [.. points.Select(p => p.Position)];
        _owners = [.. points.Select(p => p.Owner)];
    }
}
