namespace Sagas.TripBooking;

/// <summary>A plain-text table with aligned columns.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public TextTable Add(params string[] cells)
    {
        _rows.Add(cells);
        return this;
    }

    public void WriteTo(TextWriter output, string indent = "  ")
    {
        int[] widths = [.. headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length)))];
        output.WriteLine((indent + string.Join(" | ", headers.Select((h, i) => h.PadRight(widths[i])))).TrimEnd());
        output.WriteLine(indent + string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (string[] row in _rows)
        {
            output.WriteLine((indent + string.Join(" | ", row.Select((c, i) => c.PadRight(widths[i])))).TrimEnd());
        }
    }
}
