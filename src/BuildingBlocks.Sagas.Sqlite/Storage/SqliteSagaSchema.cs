using System.Globalization;
using BuildingBlocks.Sqlite;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>
/// The three tables, their indexes and the schema version kept in <c>PRAGMA user_version</c> (the file is also tagged
/// with <c>PRAGMA application_id</c>). The schema is created in one transaction on first use; a file this version does
/// not understand is refused without being changed.
/// </summary>
internal static class SqliteSagaSchema
{
    /// <summary>The schema version this library writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Marks the file as a saga store in its header ("SAGA" in ASCII).</summary>
    public const int ApplicationId = 0x53414741;

    public const string SagasTable = "sagas";

    public const string DataTable = "saga_data";

    public const string EventsTable = "saga_events";

    /// <summary>
    /// Which sagas an acquire may take, as one indexable value: 0 when nobody holds the lease, else its expiry (NULL when
    /// a holder has no expiry, which never becomes available). A saga is available when the value is at most now.
    /// </summary>
    public const string AvailableFrom = "(CASE WHEN lease_owner IS NULL THEN 0 ELSE lease_expires_at END)";

    /// <summary>The statuses an acquire takes (<see cref="SagaStatus.Running"/>, <see cref="SagaStatus.Compensating"/>), as SQL literals.</summary>
    public const string ActiveStatuses = "(0, 1)";

    /// <summary>
    /// One small row per saga: identity, status and lease. Acquisitions, renewals, releases and the fence of every
    /// checkpoint touch only this table, so they never rewrite the saga data (SQLite rewrites a whole row on update).
    /// Times are UTC ticks; STRICT makes SQLite refuse a value of the wrong type.
    /// </summary>
    private const string CreateSagas = """
        CREATE TABLE IF NOT EXISTS sagas (
            row_id           INTEGER PRIMARY KEY,
            id               TEXT    NOT NULL UNIQUE,
            name             TEXT    NOT NULL,
            version          INTEGER NOT NULL,
            status           INTEGER NOT NULL,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL,
            lease_owner      TEXT,
            lease_token      INTEGER NOT NULL,
            lease_expires_at INTEGER
        ) STRICT;
        """;

    /// <summary>The large, opaque part of a saga (text kept as given), one row per <c>sagas</c> row, keyed by its <c>row_id</c>.</summary>
    private const string CreateData = """
        CREATE TABLE IF NOT EXISTS saga_data (
            row_id   INTEGER PRIMARY KEY,
            data     TEXT NOT NULL,
            progress TEXT NOT NULL,
            error    TEXT
        ) STRICT;
        """;

    /// <summary>A saga's history, clustered by saga and sequence.</summary>
    private const string CreateEvents = """
        CREATE TABLE IF NOT EXISTS saga_events (
            saga_id     TEXT    NOT NULL,
            sequence    INTEGER NOT NULL,
            kind        INTEGER NOT NULL,
            step        TEXT,
            attempt     INTEGER NOT NULL,
            at          INTEGER NOT NULL,
            duration    INTEGER,
            detail      TEXT,
            lease_token INTEGER NOT NULL,
            PRIMARY KEY (saga_id, sequence)
        ) STRICT, WITHOUT ROWID;
        """;

    /// <summary>
    /// The acquire index covers only active sagas and holds every column the acquire filters and sorts on, so finding
    /// the available ones reads this index alone, however many leased or finished sagas there are. The status index
    /// serves counts and status-filtered listings.
    /// </summary>
    public static readonly (string Name, string Sql)[] Indexes =
    [
        ("ix_sagas_available", $"CREATE INDEX IF NOT EXISTS ix_sagas_available ON sagas ({AvailableFrom}, updated_at, id, name, status, lease_owner, lease_expires_at) WHERE status IN {ActiveStatuses};"),
        ("ix_sagas_status", "CREATE INDEX IF NOT EXISTS ix_sagas_status ON sagas (status, id);"),
    ];

    /// <summary>Every table with the columns this version needs.</summary>
    public static readonly (string Table, string[] Columns)[] Tables =
    [
        (SagasTable, ["row_id", "id", "name", "version", "status", "created_at", "updated_at", "lease_owner", "lease_token", "lease_expires_at"]),
        (DataTable, ["row_id", "data", "progress", "error"]),
        (EventsTable, ["saga_id", "sequence", "kind", "step", "attempt", "at", "duration", "detail", "lease_token"]),
    ];

    /// <summary>
    /// Checks the file, switches it to WAL and creates the schema when the file is new. Reads first and writes only once
    /// the file is known to be empty or a saga store of this version, so a file that is refused is left as it was.
    /// </summary>
    public static async ValueTask InitializeAsync(SqliteConnection connection, string path, TimeSpan busyTimeout, CancellationToken cancellationToken)
    {
        Inspection inspection = InspectSnapshot(connection, path);

        // Persistent: every later connection, in any process, opens the file in WAL mode.
        _ = SqliteSchemaReader.Scalar(connection, "PRAGMA journal_mode = WAL;");

        if (inspection.IsSagaStore && inspection.MissingIndexes == 0)
        {
            return;
        }

        await SqliteTransactions.BeginImmediateAsync(connection, path, busyTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            // Again under the write lock: another process may have created the schema meanwhile.
            inspection = Inspect(connection, path);
            if (!inspection.IsSagaStore)
            {
                SqliteSchemaReader.Execute(connection, CreateSagas);
                SqliteSchemaReader.Execute(connection, CreateData);
                SqliteSchemaReader.Execute(connection, CreateEvents);
            }

            foreach ((string _, string sql) in Indexes)
            {
                SqliteSchemaReader.Execute(connection, sql);
            }

            SqliteSchemaReader.Execute(
                connection,
                $"PRAGMA application_id = {ApplicationId.ToString(CultureInfo.InvariantCulture)}; PRAGMA user_version = {Version.ToString(CultureInfo.InvariantCulture)};");
            SqliteTransactions.Commit(connection);
        }
        catch
        {
            SqliteTransactions.RollbackQuietly(connection);
            throw;
        }
    }

    /// <summary>
    /// Reads the header and the object list in one read transaction: read separately, a store creating the schema in
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
        long applicationId = (long)SqliteSchemaReader.Scalar(connection, "PRAGMA application_id;")!;
        List<(string Type, string Name)> objects = SqliteSchemaReader.ReadObjects(connection);

        if (applicationId != 0 && applicationId != ApplicationId)
        {
            throw new InvalidOperationException(
                $"The file '{path}' belongs to another program (PRAGMA application_id is {applicationId}, not the saga store's {ApplicationId}). " +
                "Give the saga store a file of its own; this one was not changed.");
        }

        if (version > Version)
        {
            throw new InvalidOperationException(
                $"The saga store file '{path}' has schema version {version} (PRAGMA user_version), newer than this version of " +
                $"BuildingBlocks.Sagas.Sqlite supports ({Version}). A newer version of the package wrote it: upgrade the package, " +
                "or point DataSource at another file. The file was not changed.");
        }

        if (version == 0)
        {
            if (objects.Count == 0)
            {
                return new Inspection(IsSagaStore: false, MissingIndexes: Indexes.Length);
            }

            throw new InvalidOperationException(
                $"The file '{path}' is a SQLite database but not a saga store: it holds {SqliteSchemaReader.Describe(objects)} and no saga store schema " +
                "version (PRAGMA user_version is 0). Give the saga store a file of its own; this one was not changed.");
        }

        if (version < 0)
        {
            throw new InvalidOperationException(
                $"The file '{path}' has schema version {version} (PRAGMA user_version), which no version of BuildingBlocks.Sagas.Sqlite " +
                "writes. Give the saga store a file of its own; this one was not changed.");
        }

        foreach ((string table, string[] columns) in Tables)
        {
            if (!objects.Contains(("table", table)))
            {
                throw new InvalidOperationException(
                    $"The file '{path}' says schema version {version} but has no '{table}' table (it holds {SqliteSchemaReader.Describe(objects)}). " +
                    "It belongs to another program or was edited outside the library; give the saga store a file of its own. It was not changed.");
            }

            HashSet<string> present = SqliteSchemaReader.ReadColumns(connection, table);

            string[] missing = [.. columns.Where(c => !present.Contains(c))];
            if (missing.Length > 0)
            {
                throw new InvalidOperationException(
                    $"The saga store file '{path}' says schema version {version} but its '{table}' table does not match it " +
                    $"(missing columns: {string.Join(", ", missing)}). It was edited outside the library or belongs to another program; it was not changed.");
            }
        }

        int missingIndexes = Indexes.Count(index => !objects.Contains(("index", index.Name)));
        return new Inspection(IsSagaStore: true, missingIndexes);
    }

    private readonly record struct Inspection(bool IsSagaStore, int MissingIndexes);
}
