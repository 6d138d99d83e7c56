using System.Globalization;
using BuildingBlocks.Testing;
using Npgsql;

namespace BuildingBlocks.Benchmarks.PostgreSql;

/// <summary>
/// The PostgreSQL server the benchmarks of one benchmark process run on. When <see cref="ConnectionStringVariable"/> is
/// set, its connection string wins; otherwise the first <see cref="Acquire"/> of the process starts a throwaway local
/// server (<see cref="PostgreSqlServer"/>: <c>initdb</c> in a temp directory, loopback, durability on) and the last
/// <see cref="Release"/> stops it and deletes its directory. Every benchmark class works in schemas of its own
/// (<see cref="NewSchemaName"/>), dropped at cleanup, so a shared server keeps nothing behind.
/// </summary>
internal static class BenchmarkPostgreSql
{
    /// <summary>An Npgsql connection string to benchmark against instead of a local throwaway server.</summary>
    public const string ConnectionStringVariable = "BUILDINGBLOCKS_BENCH_PG";

    private static readonly Lock s_gate = new();
    private static PostgreSqlServer? s_server;
    private static string? s_connectionString;
    private static int s_users;

    /// <summary>Starts the local server unless one runs or the variable is set, and returns the connection string to use.</summary>
    public static string Acquire()
    {
        lock (s_gate)
        {
            if (s_users++ == 0)
            {
                try
                {
                    s_connectionString = Start();
                }
                catch
                {
                    s_users--;
                    throw;
                }
            }

            return s_connectionString!;
        }
    }

    /// <summary>Stops the local server after its last user.</summary>
    public static void Release()
    {
        lock (s_gate)
        {
            if (s_users == 0 || --s_users > 0)
            {
                return;
            }

            NpgsqlConnection.ClearAllPools();
            if (s_server is not null)
            {
                s_server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                s_server = null;
            }

            s_connectionString = null;
        }
    }

    /// <summary>A fresh lower-case schema name: <paramref name="prefix"/> (lower case), '_' and 12 random hex digits.</summary>
    public static string NewSchemaName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Drops a schema and everything in it (a no-op for null).</summary>
    public static void DropSchema(string connectionString, string? schema)
    {
        if (schema is null)
        {
            return;
        }

        Execute(connectionString, $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE;");
    }

    /// <summary>Runs one statement on its own unpooled connection.</summary>
    public static void Execute(string connectionString, string sql)
    {
        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        using var connection = new NpgsqlConnection(unpooled.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 120 };
        _ = command.ExecuteNonQuery();
    }

    private static string Start()
    {
        string? external = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        string connectionString;
        string origin;
        if (!string.IsNullOrWhiteSpace(external))
        {
            connectionString = external;
            origin = ConnectionStringVariable;
        }
        else
        {
            s_server = PostgreSqlServer.StartAsync().GetAwaiter().GetResult();
            connectionString = s_server.CreateDatabaseAsync("bench").GetAwaiter().GetResult();
            origin = $"local throwaway server, port {s_server.Port.ToString(CultureInfo.InvariantCulture)}, {s_server.BinDirectory}";
        }

        Console.WriteLine($"// PostgreSQL ({origin}): {Describe(connectionString)}");
        return connectionString;
    }

    /// <summary>The server version and the settings that matter for these figures, for the log.</summary>
    private static string Describe(string connectionString)
    {
        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        using var connection = new NpgsqlConnection(unpooled.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), " +
            "current_setting('shared_buffers'), current_setting('max_connections'), current_setting('wal_sync_method');",
            connection);
        using NpgsqlDataReader reader = command.ExecuteReader();
        reader.Read();
        return $"version {reader.GetString(0)}, fsync={reader.GetString(1)}, synchronous_commit={reader.GetString(2)}, " +
            $"shared_buffers={reader.GetString(3)}, max_connections={reader.GetString(4)}, wal_sync_method={reader.GetString(5)}";
    }
}
