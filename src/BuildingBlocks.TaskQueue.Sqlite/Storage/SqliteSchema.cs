using System.Globalization;
using BuildingBlocks.Sqlite;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.TaskQueue.Sqlite;

/// <summary>
/// The table, its indexes and the schema version kept in <c>PRAGMA user_version</c>. The schema is created in one
/// transaction on first use; a file this version does not understand is refused without being changed.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The schema version this library writes and reads.</summary>
    public const int Version = 1;

    public const string TableName = "tasks";

    /// <summary>
    /// One row per task. STRICT makes SQLite refuse a value of the wrong type; <c>state</c> has no CHECK on purpose, so
    /// a row damaged outside the library is reported as corrupt when read rather than hidden. Times are UTC ticks.
    /// </summary>
    private const string CreateTable = """
        CREATE TABLE IF NOT EXISTS tasks (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            queue            TEXT    NOT NULL CHECK (length(queue) > 0),
            state            INTEGER NOT NULL,
            payload          BLOB    NOT NULL,
            priority         INTEGER NOT NULL,
            attempts         INTEGER NOT NULL,
            max_attempts     INTEGER NOT NULL,
            enqueued_at      INTEGER NOT NULL,
            run_at           INTEGER NOT NULL,
            lease_token      INTEGER NOT NULL,
            lease_expires_at INTEGER,
            leased_by        TEXT,
            progress         TEXT,
            last_error       TEXT,
            finished_at      INTEGER,
            cancel_requested INTEGER NOT NULL,
            unique_key       TEXT,
            trace_parent     TEXT
        ) STRICT;
        """;

    /// <summary>
    /// The indexes by name. Inserts touch only the claim index (and the unique one for keyed tasks); a claim moves a row
    /// from the claim index to the lease index, a finish from the lease index to the finished index. Statistics read the
    /// three partial indexes instead of the table; dead-letter listing and redrive read their own small index.
    /// </summary>
    private static readonly (string Name, string Sql)[] Indexes =
    [
        ("ix_tasks_claim", "CREATE INDEX IF NOT EXISTS ix_tasks_claim ON tasks (queue, priority DESC, run_at, id) WHERE state = 0;"),
        ("ix_tasks_lease", "CREATE INDEX IF NOT EXISTS ix_tasks_lease ON tasks (lease_expires_at) WHERE state = 1;"),
        ("ux_tasks_unique_key", "CREATE UNIQUE INDEX IF NOT EXISTS ux_tasks_unique_key ON tasks (unique_key) WHERE unique_key IS NOT NULL;"),
        ("ix_tasks_finished", "CREATE INDEX IF NOT EXISTS ix_tasks_finished ON tasks (finished_at, state, queue) WHERE finished_at IS NOT NULL;"),
        ("ix_tasks_dead_letters", "CREATE INDEX IF NOT EXISTS ix_tasks_dead_letters ON tasks (queue, id) WHERE state = 3;"),
    ];

    /// <summary>The columns of <see cref="TableName"/>, in the order <see cref="TaskRows"/> selects them.</summary>
    public static readonly string[] Columns =
    [
        "id", "queue", "state", "payload", "priority", "attempts", "max_attempts", "enqueued_at", "run_at", "lease_token",
        "lease_expires_at", "leased_by", "progress", "last_error", "finished_at", "cancel_requested", "unique_key", "trace_parent",
    ];

    /// <summary>
    /// Checks the file, switches it to WAL and creates the schema when the file is new. Reads first and writes only once
    /// the file is known to be empty or a task store of this version, so a file that is refused is left as it was.
    /// </summary>
    public static async ValueTask InitializeAsync(SqliteConnection connection, string path, TimeSpan busyTimeout, CancellationToken cancellationToken)
    {
        Inspection inspection = InspectSnapshot(connection, path);

        // Persistent: every later connection, in any process, opens the file in WAL mode.
        _ = SqliteSchemaReader.Scalar(connection, "PRAGMA journal_mode = WAL;");

        if (inspection.IsTaskStore && inspection.MissingIndexes == 0)
        {
            return;
        }

        await SqliteTransactions.BeginImmediateAsync(connection, path, busyTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            // Again under the write lock: another process may have created the schema meanwhile.
            inspection = Inspect(connection, path);
            if (!inspection.IsTaskStore)
            {
                SqliteSchemaReader.Execute(connection, CreateTable);
            }

            foreach ((string _, string sql) in Indexes)
            {
                SqliteSchemaReader.Execute(connection, sql);
            }

            SqliteSchemaReader.Execute(connection, $"PRAGMA user_version = {Version.ToString(CultureInfo.InvariantCulture)};");
            SqliteTransactions.Commit(connection);
        }
        catch
        {
            SqliteTransactions.RollbackQuietly(connection);
            throw;
        }
    }

    /// <summary>
    /// Reads the version and the object list in one read transaction: read separately, a store creating the schema in
    /// another connection could commit in between, and "version 0 with tables" would refuse a valid file.
    /// </summary>
    private static Inspection InspectSnapshot(SqliteConnection connection, string path)
    {
        SqliteTransactions.BeginRead(connection);
        try
        {
            return Inspect(connection, path);
        }
        finally
        {
            SqliteTransactions.RollbackQuietly(connection);
        }
    }

    private static Inspection Inspect(SqliteConnection connection, string path)
    {
        long version = (long)SqliteSchemaReader.Scalar(connection, "PRAGMA user_version;")!;
        List<(string Type, string Name)> objects = SqliteSchemaReader.ReadObjects(connection);

        if (version > Version)
        {
            throw new TaskStoreException(
                $"The task store file '{path}' has schema version {version} (PRAGMA user_version), newer than this version of " +
                $"BuildingBlocks.TaskQueue.Sqlite supports ({Version}). A newer version of the package wrote it: upgrade the package, " +
                "or point DataSource at another file. The file was not changed.");
        }

        if (version == 0)
        {
            if (objects.Count == 0)
            {
                return new Inspection(IsTaskStore: false, MissingIndexes: Indexes.Length);
            }

            throw new TaskStoreException(
                $"The file '{path}' is a SQLite database but not a task store: it holds {SqliteSchemaReader.Describe(objects)} and no task store schema " +
                "version (PRAGMA user_version is 0). Give the task store a file of its own; this one was not changed.");
        }

        if (version < 0)
        {
            throw new TaskStoreException(
                $"The file '{path}' has schema version {version} (PRAGMA user_version), which no version of BuildingBlocks.TaskQueue.Sqlite " +
                "writes. Give the task store a file of its own; this one was not changed.");
        }

        if (!objects.Contains(("table", TableName)))
        {
            throw new TaskStoreException(
                $"The task store file '{path}' says schema version {version} but has no '{TableName}' table (it holds {SqliteSchemaReader.Describe(objects)}). " +
                "It was edited outside the library or belongs to another program; it was not changed.");
        }

        HashSet<string> present = SqliteSchemaReader.ReadColumns(connection, TableName);

        string[] missing = [.. Columns.Where(c => !present.Contains(c))];
        if (missing.Length > 0)
        {
            throw new TaskStoreException(
                $"The task store file '{path}' says schema version {version} but its '{TableName}' table does not match it " +
                $"(missing columns: {string.Join(", ", missing)}). It was edited outside the library or belongs to another program; it was not changed.");
        }

        int missingIndexes = Indexes.Count(index => !objects.Contains(("index", index.Name)));
        return new Inspection(IsTaskStore: true, missingIndexes);
    }

    private readonly record struct Inspection(bool IsTaskStore, int MissingIndexes);
}
