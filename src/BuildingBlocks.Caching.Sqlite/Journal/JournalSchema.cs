using System.Globalization;
using BuildingBlocks.Sqlite;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Caching.Sqlite;

/// <summary>
/// The journal's one table and the marks that say a file is a journal: <c>PRAGMA application_id</c> and the schema version
/// in <c>PRAGMA user_version</c>. The schema is created in one transaction on first use; a file this version does not
/// understand is refused without being changed.
/// </summary>
internal static class JournalSchema
{
    /// <summary>The schema version this library writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Marks the file as a BuildingBlocks write-back journal ("BBCJ"), so another program's database with the same user_version is not mistaken for one.</summary>
    public const int ApplicationId = 0x4242434A;

    public const string TableName = "journal";

    /// <summary>
    /// One row per cache and key: the newest write not yet in the store. STRICT makes SQLite refuse a value of the wrong
    /// type; <c>value</c> is NULL for a delete. A rowid table, not WITHOUT ROWID: new rows go to the end of the table and
    /// only the small (cache_name, key) index takes random inserts, which measured 1.3 times faster for 100-byte values
    /// and 3 times faster for 1 KiB values than one b-tree keyed by (cache_name, key).
    /// </summary>
    private const string CreateTable = """
        CREATE TABLE journal (
            cache_name TEXT    NOT NULL CHECK (length(cache_name) > 0),
            key        BLOB    NOT NULL,
            value      BLOB,
            version    INTEGER NOT NULL,
            PRIMARY KEY (cache_name, key)
        ) STRICT;
        """;

    /// <summary>The columns of <see cref="TableName"/>.</summary>
    private static readonly string[] Columns = ["cache_name", "key", "value", "version"];

    /// <summary>
    /// Checks the file, switches it to WAL and creates the schema when the file is new. Reads first and writes only once
    /// the file is known to be empty or a journal of this version, so a file that is refused is left as it was.
    /// </summary>
    /// <returns>Whether the schema was created now (the file was new or empty).</returns>
    public static bool Initialize(SqliteConnection connection, string path, TimeSpan busyTimeout)
    {
        Inspection inspection = InspectSnapshot(connection, path);

        // Persistent: every later connection opens the file in WAL mode.
        string? mode = SqliteSchemaReader.Scalar(connection, "PRAGMA journal_mode = WAL;") as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new SqliteJournalException(
                $"The write-back journal '{path}' could not be switched to WAL mode (SQLite answered journal_mode '{mode}'). " +
                "The file system may not support the shared memory WAL needs (a network share?); put the journal on a local disk.");
        }

        if (inspection.IsJournal)
        {
            return false;
        }

        JournalTransactions.BeginImmediate(connection.Handle!, path, busyTimeout);
        try
        {
            // Again under the write lock: another connection may have created the schema meanwhile.
            if (Inspect(connection, path).IsJournal)
            {
                JournalTransactions.Rollback(connection.Handle!);
                return false;
            }

            SqliteSchemaReader.Execute(connection, CreateTable);
            SqliteSchemaReader.Execute(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA application_id = {ApplicationId}; PRAGMA user_version = {Version};"));
            SqliteSchemaReader.Execute(connection, "COMMIT;");
            return true;
        }
        catch
        {
            JournalTransactions.Rollback(connection.Handle!);
            throw;
        }
    }

    /// <summary>
    /// Reads the marks and the object list in one read transaction, so a journal creating the schema in another connection
    /// cannot commit in between and make a valid file look foreign.
    /// </summary>
    private static Inspection InspectSnapshot(SqliteConnection connection, string path)
    {
        SqliteSchemaReader.Execute(connection, "BEGIN;");
        try
        {
            return Inspect(connection, path);
        }
        finally
        {
            JournalTransactions.Rollback(connection.Handle!);
        }
    }

    private static Inspection Inspect(SqliteConnection connection, string path)
    {
        long version = (long)SqliteSchemaReader.Scalar(connection, "PRAGMA user_version;")!;
        long applicationId = (long)SqliteSchemaReader.Scalar(connection, "PRAGMA application_id;")!;
        List<(string Type, string Name)> objects = SqliteSchemaReader.ReadObjects(connection);

        if (applicationId != 0 && applicationId != ApplicationId)
        {
            throw new SqliteJournalException(
                $"The file '{path}' is a SQLite database of another program (PRAGMA application_id is {applicationId}, not the journal's {ApplicationId}). " +
                "Give the write-back journal a file of its own; this one was not changed.");
        }

        if (version == 0 && applicationId == 0)
        {
            if (objects.Count == 0)
            {
                return new Inspection(IsJournal: false);
            }

            throw new SqliteJournalException(
                $"The file '{path}' is a SQLite database but not a write-back journal: it holds {SqliteSchemaReader.Describe(objects)} and no journal marks " +
                "(PRAGMA application_id and user_version are 0). Give the journal a file of its own; this one was not changed.");
        }

        if (applicationId == 0)
        {
            throw new SqliteJournalException(
                $"The file '{path}' is a SQLite database but not a write-back journal: it has schema version {version} (PRAGMA user_version) " +
                $"but not the journal's application_id, and holds {SqliteSchemaReader.Describe(objects)}. Give the journal a file of its own; this one was not changed.");
        }

        if (version > Version)
        {
            throw new SqliteJournalException(
                $"The write-back journal '{path}' has schema version {version} (PRAGMA user_version), newer than this version of " +
                $"BuildingBlocks.Caching.Sqlite supports ({Version}). A newer version of the package wrote it: upgrade the package, " +
                "or point SqliteJournalOptions.Path at another file. The file was not changed.");
        }

        if (version < 1)
        {
            throw new SqliteJournalException(
                $"The write-back journal '{path}' has schema version {version} (PRAGMA user_version), which no version of BuildingBlocks.Caching.Sqlite " +
                "writes. It was edited outside the library; it was not changed.");
        }

        if (!objects.Contains(("table", TableName)))
        {
            throw new SqliteJournalException(
                $"The write-back journal '{path}' says schema version {version} but has no '{TableName}' table (it holds {SqliteSchemaReader.Describe(objects)}). " +
                "It was edited outside the library; it was not changed.");
        }

        HashSet<string> present = SqliteSchemaReader.ReadColumns(connection, TableName);

        string[] missing = [.. Columns.Where(c => !present.Contains(c))];
        if (missing.Length > 0)
        {
            throw new SqliteJournalException(
                $"The write-back journal '{path}' says schema version {version} but its '{TableName}' table does not match it " +
                $"(missing columns: {string.Join(", ", missing)}). It was edited outside the library; it was not changed.");
        }

        return new Inspection(IsJournal: true);
    }

    private readonly record struct Inspection(bool IsJournal);
}
