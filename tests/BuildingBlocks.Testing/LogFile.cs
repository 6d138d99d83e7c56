using System.Text;

namespace BuildingBlocks.Testing;

/// <summary>Reads server logs for assertion messages.</summary>
public static class LogFile
{
    /// <summary>The last <paramref name="lines"/> lines of the file (while the server may still write it), or a note why there are none.</summary>
    /// <param name="path">The log file.</param>
    /// <param name="lines">How many lines.</param>
    /// <returns>The lines joined by newlines.</returns>
    public static string ReadTail(string path, int lines)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var tail = new Queue<string>(lines);
            while (reader.ReadLine() is { } line)
            {
                if (tail.Count == lines)
                {
                    tail.Dequeue();
                }

                tail.Enqueue(line);
            }

            return tail.Count == 0 ? "(the log is empty)" : string.Join(Environment.NewLine, tail);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"(no log: {e.Message})";
        }
    }
}
