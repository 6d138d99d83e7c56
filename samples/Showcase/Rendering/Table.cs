using System.Globalization;

namespace Showcase.Rendering;

/// <summary>A plain-text table with aligned columns; numbers are right-aligned.</summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Add(params object?[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"Expected {headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add([.. cells.Select(c => Convert.ToString(c, CultureInfo.InvariantCulture) ?? string.Empty)]);
        return this;
    }

    public void WriteTo(TextWriter output)
    {
        int[] widths = [.. headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length)))];
        bool[] numeric = [.. headers.Select((_, i) => _rows.Count > 0 && _rows.All(r => IsNumber(r[i])))];
        output.WriteLine("  " + string.Join(" | ", headers.Select((h, i) => Pad(h, widths[i], numeric[i]))));
        output.WriteLine("  " + string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (string[] row in _rows)
        {
            output.WriteLine("  " + string.Join(" | ", row.Select((c, i) => Pad(c, widths[i], numeric[i]))));
        }

        output.WriteLine();
    }

    private static bool IsNumber(string s) => s.Length > 0 && (char.IsDigit(s[0]) || s[0] == '-' || s[0] == '+') && s.Any(char.IsDigit) && !s.Any(char.IsLetter);

    private static string Pad(string s, int width, bool right) => right ? s.PadLeft(width) : s.PadRight(width);
}
