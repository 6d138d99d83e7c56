using System.Globalization;
using System.Text;
using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql;

/// <summary>
/// The tables, their indexes and the versioned migrations. <c>saga_schema_version</c> holds one row with the version the
/// tables are at (its own name, so the schema may be shared with other packages' tables); each migration moves it up
/// inside one transaction, under an advisory lock, so processes that start together migrate once.
/// </summary>
internal static class PostgreSqlSagaSchema
{
    /// <summary>The version this package writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The table that holds the version.</summary>
    public const string VersionTable = "saga_schema_version";

    /// <summary>Migration n takes the tables from version n - 1 to n; <c>{0}</c> is the quoted schema name.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE {0}.sagas (
            id               text COLLATE "C" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
            name             text        NOT NULL,
            version          integer     NOT NULL,
            status           smallint    NOT NULL CHECK (status BETWEEN 0 AND 6),
            data             text        NOT NULL,
            progress         text        NOT NULL,
            error            text,
            created_at       timestamptz NOT NULL,
            updated_at       timestamptz NOT NULL,
            lease_owner      text,
            lease_token      bigint      NOT NULL DEFAULT 0,
            lease_expires_at timestamptz
        );
        -- Acquisition reads the active sagas oldest update first straight from this index and skips rows others have locked.
        CREATE INDEX ix_sagas_acquire ON {0}.sagas (updated_at, id) WHERE status IN (0, 1);
        -- Operator queries by status or by definition name, paged by id.
        CREATE INDEX ix_sagas_status ON {0}.sagas (status, id);
        CREATE INDEX ix_sagas_name ON {0}.sagas (name, id);
        CREATE TABLE {0}.saga_events (
            saga_id     text COLLATE "C" NOT NULL REFERENCES {0}.sagas (id) ON DELETE CASCADE,
            sequence    bigint      NOT NULL,
            kind        smallint    NOT NULL CHECK (kind >= 0),
            step        text,
            attempt     integer     NOT NULL,
            at          timestamptz NOT NULL,
            duration    bigint,
            detail      text,
            lease_token bigint      NOT NULL,
            PRIMARY KEY (saga_id, sequence)
        );
        COMMENT ON COLUMN {0}.saga_events.duration IS 'Ticks of 100 ns.';
        """,
    ];

    /// <summary>The SQL that creates the tables at <see cref="Version"/> from nothing, for users who migrate themselves.</summary>
    public static string Script(string schema)
    {
        string quoted = Quote(schema);
        var script = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"CREATE SCHEMA IF NOT EXISTS {quoted};")
            .AppendLine(CultureInfo.InvariantCulture, $"CREATE TABLE IF NOT EXISTS {quoted}.{VersionTable} (version integer NOT NULL);");
        for (int i = 0; i < Migrations.Length; i++)
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"-- version {i + 1}")
                .AppendLine(string.Format(CultureInfo.InvariantCulture, Migrations[i], quoted));
        }

        return script
            .AppendLine(CultureInfo.InvariantCulture, $"DELETE FROM {quoted}.{VersionTable};")
            .AppendLine(CultureInfo.InvariantCulture, $"INSERT INTO {quoted}.{VersionTable} (version) VALUES ({Version});")
            .ToString();
    }

    /// <summary>The schema name as an SQL identifier (validated to be a plain lower-case identifier already).</summary>
    public static string Quote(string schema) => "\"" + schema + "\"";

    /// <summary>Creates or upgrades the tables (when <paramref name="migrate"/>) and checks their version.</summary>
    public static async Task InitializeAsync(NpgsqlDataSource dataSource, string schema, bool migrate, string description, CancellationToken cancellationToken)
    {
        string quoted = Quote(schema);
        using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // Every process after the first finds the tables ready: one read, no lock, no DDL rights needed.
        int? found = await ReadVersionAsync(connection, transaction: null, quoted, cancellationToken).ConfigureAwait(false);
        if (found == Version)
        {
            return;
        }

        if (found > Version)
        {
            throw Newer(description, schema, found.Value);
        }

        if (!migrate)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL saga store {description} needs the tables of schema '{schema}' at version {Version}, but they are " +
                (found is null ? "missing" : $"at version {found}") +
                ". MigrateSchema is false: run the script from PostgreSqlSagaStore.GetMigrationScript, or set MigrateSchema = true.");
        }

        using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // One migrator at a time across every process; the lock ends with the transaction.
        using (NpgsqlCommand lockCommand = new("SELECT pg_advisory_xact_lock(hashtext('buildingblocks.sagas:' || @schema));", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<string>("schema", schema));
            _ = await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // CREATE SCHEMA IF NOT EXISTS needs the right to create schemas even when it exists: only ask when it is missing.
        if (!await ExistsAsync(connection, transaction, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @name);", schema, cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {quoted};", cancellationToken).ConfigureAwait(false);
        }

        int current = await ReadVersionAsync(connection, transaction, quoted, cancellationToken).ConfigureAwait(false) ?? 0;
        if (current > Version)
        {
            throw Newer(description, schema, current);
        }

        if (current == 0)
        {
            // Tables of ours without a version row were not made by this package: do not guess what they hold.
            foreach (string table in (string[])["sagas", "saga_events"])
            {
                if (await ExistsAsync(connection, transaction, "SELECT to_regclass(@name) IS NOT NULL;", $"{quoted}.{table}", cancellationToken).ConfigureAwait(false))
                {
                    throw new InvalidOperationException(
                        $"The PostgreSQL saga store {description} found a table '{schema}.{table}' that BuildingBlocks.Sagas.PostgreSql did not " +
                        $"create (schema '{schema}' has no {VersionTable} table). Choose another Schema, or move that table away; nothing was changed.");
                }
            }
        }

        await ExecuteAsync(connection, transaction, $"CREATE TABLE IF NOT EXISTS {quoted}.{VersionTable} (version integer NOT NULL);", cancellationToken).ConfigureAwait(false);
        for (int version = current + 1; version <= Version; version++)
        {
            await ExecuteAsync(connection, transaction, string.Format(CultureInfo.InvariantCulture, Migrations[version - 1], quoted), cancellationToken).ConfigureAwait(false);
        }

        if (current != Version)
        {
            await ExecuteAsync(connection, transaction, $"DELETE FROM {quoted}.{VersionTable}; INSERT INTO {quoted}.{VersionTable} (version) VALUES ({Version});", cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static InvalidOperationException Newer(string description, string schema, int found) => new(
        $"The PostgreSQL saga store {description} found the tables of schema '{schema}' at version {found}, newer than this version of " +
        $"BuildingBlocks.Sagas.PostgreSql understands ({Version}). Upgrade the package; nothing was changed.");

    private static async Task<int?> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string quoted, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, transaction, "SELECT to_regclass(@name) IS NOT NULL;", $"{quoted}.{VersionTable}", cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        using NpgsqlCommand command = new($"SELECT max(version) FROM {quoted}.{VersionTable};", connection, transaction);
        object? value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is int version ? version : null;
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, string name, CancellationToken cancellationToken)
    {
        using NpgsqlCommand command = new(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string>("name", name));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        using NpgsqlCommand command = new(sql, connection, transaction);
        _ = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
