using System.Globalization;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>
/// The "remote service" the crash sagas call, kept in a SQLite file of its own (not the saga store) so it survives the
/// coordinator's crashes and the test can read it afterwards. Each call is one transaction that records the call in
/// <c>calls</c> (every call, as a service without idempotency would act on it) and applies the effect in <c>effects</c>
/// unless an effect with the same idempotency key exists (<c>UNIQUE</c>; the first effect's sequence is returned, as an
/// idempotent service returns its first answer).
/// </summary>
internal sealed class Ledger(string path)
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS effects (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            saga TEXT NOT NULL,
            step TEXT NOT NULL,
            direction TEXT NOT NULL,
            undoes INTEGER NULL,
            coordinator TEXT NOT NULL,
            attempt INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS calls (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            saga TEXT NOT NULL,
            step TEXT NOT NULL,
            direction TEXT NOT NULL,
            coordinator TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            applied INTEGER NOT NULL);
        """;

    private readonly string _connectionString = ConnectionString(path);

    public const string Forward = "forward";
    public const string Compensation = "compensation";

    /// <summary>Creates the ledger file and its tables (before any process uses it).</summary>
    public static void Create(string path)
    {
        using var connection = new SqliteConnection(ConnectionString(path));
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = Schema;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Calls the service: records the call and applies the effect once per <paramref name="key"/>.
    /// </summary>
    /// <returns>The sequence of the key's effect (this call's, or the first call's when the key was applied before).</returns>
    public async Task<long> ApplyAsync(string key, string saga, string step, string direction, long? undoes, string coordinator, int attempt, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (SqliteCommand pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 60000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        await using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT OR IGNORE INTO effects (key, saga, step, direction, undoes, coordinator, attempt)
                VALUES ($key, $saga, $step, $direction, $undoes, $coordinator, $attempt);
            INSERT INTO calls (key, saga, step, direction, coordinator, attempt, applied)
                VALUES ($key, $saga, $step, $direction, $coordinator, $attempt, changes());
            SELECT seq FROM effects WHERE key = $key;
            """;
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$saga", saga);
        command.Parameters.AddWithValue("$step", step);
        command.Parameters.AddWithValue("$direction", direction);
        command.Parameters.AddWithValue("$undoes", undoes is { } u ? u : DBNull.Value);
        command.Parameters.AddWithValue("$coordinator", coordinator);
        command.Parameters.AddWithValue("$attempt", attempt);
        long seq = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return seq;
    }

    /// <summary>Opens a first connection and reads the tables, so the first call does not pay for it.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT COUNT(*) FROM effects) + (SELECT COUNT(*) FROM calls)";
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every applied effect, in the order they took effect.</summary>
    public static IReadOnlyList<LedgerEffect> ReadEffects(string path)
    {
        using var connection = new SqliteConnection(ConnectionString(path));
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT seq, key, saga, step, direction, undoes, coordinator, attempt FROM effects ORDER BY seq";
        using SqliteDataReader reader = command.ExecuteReader();
        List<LedgerEffect> effects = [];
        while (reader.Read())
        {
            effects.Add(new LedgerEffect(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.GetString(6),
                reader.GetInt32(7)));
        }

        return effects;
    }

    /// <summary>Every call the service received, in order (<see cref="LedgerCall.Applied"/>: whether it took effect).</summary>
    public static IReadOnlyList<LedgerCall> ReadCalls(string path)
    {
        using var connection = new SqliteConnection(ConnectionString(path));
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT seq, key, saga, step, direction, coordinator, attempt, applied FROM calls ORDER BY seq";
        using SqliteDataReader reader = command.ExecuteReader();
        List<LedgerCall> calls = [];
        while (reader.Read())
        {
            calls.Add(new LedgerCall(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.GetInt32(6),
                reader.GetInt64(7) != 0));
        }

        return calls;
    }

    /// <summary>How many calls did not take effect because their key had (the calls a service without idempotency would have applied twice).</summary>
    public static long CountRepeatedCalls(string path)
    {
        using var connection = new SqliteConnection(ConnectionString(path));
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM calls WHERE applied = 0";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static string ConnectionString(string path) =>
        new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 60 }.ToString();
}

/// <summary>One applied effect: a row of the ledger's <c>effects</c> table.</summary>
internal sealed record LedgerEffect(long Seq, string Key, string Saga, string Step, string Direction, long? Undoes, string Coordinator, int Attempt);

/// <summary>One call the service received: a row of the ledger's <c>calls</c> table.</summary>
internal sealed record LedgerCall(long Seq, string Key, string Saga, string Step, string Direction, string Coordinator, int Attempt, bool Applied);
