using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Sagas.TripBooking.Services;

/// <summary>
/// The simulated services' own database, a SQLite file apart from the saga store: the bookings of every service, each
/// row keyed by (service, idempotency key the saga step passed), a log of every call the services answered, and the
/// runs of the sample. It survives a killed process, as a real airline's database would.
/// </summary>
internal sealed class TravelDatabase
{
    public const string FileName = "trip-services.db";

    private readonly string _connectionString;

    public TravelDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 30 }.ToString();
        using SqliteConnection connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS bookings (
                service TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                reference TEXT NOT NULL UNIQUE,
                trip TEXT NOT NULL,
                details TEXT NOT NULL,
                status TEXT NOT NULL,
                PRIMARY KEY (service, idempotency_key));
            CREATE TABLE IF NOT EXISTS calls (
                seq INTEGER PRIMARY KEY,
                service TEXT NOT NULL,
                operation TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                trip TEXT NOT NULL,
                pid INTEGER NOT NULL,
                outcome TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS runs (
                seq INTEGER PRIMARY KEY,
                pid INTEGER NOT NULL,
                mode TEXT NOT NULL);
            """);
    }

    public string Path { get; }

    /// <summary>
    /// Books once per (service, idempotency key): the first call inserts the booking with the next reference
    /// (<paramref name="prefix"/> + number), a repeated call with the same key finds the row and returns its reference.
    /// </summary>
    public async Task<(string Reference, bool Existing)> BookAsync(string service, string prefix, int firstNumber, string key, string trip, string details, string status, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = Open();
        await using SqliteCommand insert = connection.CreateCommand();

        // One statement: the unique key decides, even when two attempts race.
        insert.CommandText = """
            INSERT INTO bookings (service, idempotency_key, reference, trip, details, status)
            VALUES ($service, $key, $prefix || ($first + (SELECT COUNT(*) FROM bookings WHERE service = $service)), $trip, $details, $status)
            ON CONFLICT (service, idempotency_key) DO NOTHING
            RETURNING reference
            """;
        insert.Parameters.AddWithValue("$service", service);
        insert.Parameters.AddWithValue("$key", key);
        insert.Parameters.AddWithValue("$prefix", prefix);
        insert.Parameters.AddWithValue("$first", firstNumber);
        insert.Parameters.AddWithValue("$trip", trip);
        insert.Parameters.AddWithValue("$details", details);
        insert.Parameters.AddWithValue("$status", status);
        if (await insert.ExecuteScalarAsync(cancellationToken) is string created)
        {
            return (created, false);
        }

        await using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT reference FROM bookings WHERE service = $service AND idempotency_key = $key";
        select.Parameters.AddWithValue("$service", service);
        select.Parameters.AddWithValue("$key", key);
        return ((string)(await select.ExecuteScalarAsync(cancellationToken))!, true);
    }

    /// <summary>Cancels a booking by reference; a second cancel finds it canceled and changes nothing.</summary>
    /// <returns><see langword="true"/> when this call canceled it, <see langword="false"/> when it was canceled already.</returns>
    public async Task<bool> CancelAsync(string service, string reference, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = Open();
        await using SqliteCommand update = connection.CreateCommand();
        update.CommandText = "UPDATE bookings SET status = 'canceled' WHERE service = $service AND reference = $reference AND status <> 'canceled'";
        update.Parameters.AddWithValue("$service", service);
        update.Parameters.AddWithValue("$reference", reference);
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return true;
        }

        await using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT COUNT(*) FROM bookings WHERE service = $service AND reference = $reference";
        select.Parameters.AddWithValue("$service", service);
        select.Parameters.AddWithValue("$reference", reference);
        return (long)(await select.ExecuteScalarAsync(cancellationToken))! == 0
            ? throw new InvalidOperationException($"The {service} has no booking {reference}.")
            : false;
    }

    public async Task LogCallAsync(string service, string operation, string key, string trip, string outcome, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = Open();
        await using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO calls (service, operation, idempotency_key, trip, pid, outcome) VALUES ($service, $operation, $key, $trip, $pid, $outcome)";
        insert.Parameters.AddWithValue("$service", service);
        insert.Parameters.AddWithValue("$operation", operation);
        insert.Parameters.AddWithValue("$key", key);
        insert.Parameters.AddWithValue("$trip", trip);
        insert.Parameters.AddWithValue("$pid", Environment.ProcessId);
        insert.Parameters.AddWithValue("$outcome", outcome);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task LogRunAsync(string mode, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = Open();
        await using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO runs (pid, mode) VALUES ($pid, $mode)";
        insert.Parameters.AddWithValue("$pid", Environment.ProcessId);
        insert.Parameters.AddWithValue("$mode", mode);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Booking>> BookingsAsync(CancellationToken cancellationToken)
    {
        var rows = new List<Booking>();
        await using SqliteConnection connection = Open();
        await using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT service, idempotency_key, reference, trip, details, status FROM bookings ORDER BY reference";
        await using SqliteDataReader reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new Booking(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)));
        }

        return rows;
    }

    public async Task<IReadOnlyList<ServiceCall>> CallsAsync(CancellationToken cancellationToken)
    {
        var rows = new List<ServiceCall>();
        await using SqliteConnection connection = Open();
        await using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT seq, service, operation, idempotency_key, trip, pid, outcome FROM calls ORDER BY seq";
        await using SqliteDataReader reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new ServiceCall(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5), reader.GetString(6)));
        }

        return rows;
    }

    public async Task<IReadOnlyList<(int Pid, string Mode)>> RunsAsync(CancellationToken cancellationToken)
    {
        var rows = new List<(int, string)>();
        await using SqliteConnection connection = Open();
        await using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT pid, mode FROM runs ORDER BY seq";
        await using SqliteDataReader reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        return rows;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>One row of a service's bookings table.</summary>
internal sealed record Booking(string Service, string IdempotencyKey, string Reference, string Trip, string Details, string Status);

/// <summary>One call a service answered, with the process that made it.</summary>
internal sealed record ServiceCall(long Sequence, string Service, string Operation, string IdempotencyKey, string Trip, int ProcessId, string Outcome);

/// <summary>What the services print as they answer, with the time since the run started (crash and resume modes).</summary>
internal sealed class TripLog(TextWriter? output)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Write(string service, string message)
    {
        if (output is null)
        {
            return;
        }

        lock (_gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{_clock.Elapsed.TotalSeconds,4:0.00} s] {service,-7} {message}"));
            output.Flush();
        }
    }
}
