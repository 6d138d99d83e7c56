namespace BuildingBlocks.Caching.Sqlite;

/// <summary>
/// The SQLite write-back journal could not do what was asked: the file is not a journal (or is damaged, or of a newer
/// version), could not be opened or written, or stayed locked too long. The message names the file and says what to do;
/// the operations it reports were not journaled, and a file that was refused was left unchanged.
/// </summary>
public sealed class SqliteJournalException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the file.</param>
    /// <param name="innerException">The SQLite error, if any.</param>
    public SqliteJournalException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
