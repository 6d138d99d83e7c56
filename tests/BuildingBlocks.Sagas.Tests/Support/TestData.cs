namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>The saga data most tests use: a value, notes the steps append, and room to grow.</summary>
public sealed class TestData
{
    public string Value { get; set; } = "";

    public List<string> Notes { get; set; } = [];

    public string? Blob { get; set; }

    public int Counter { get; set; }

    /// <summary>Appends a note; parallel branches share the data, so this locks.</summary>
    public void Note(string text)
    {
        lock (Notes)
        {
            Notes.Add(text);
        }
    }
}
