using BuildingBlocks.Testing;
using Npgsql;

[assembly: AssemblyFixture(typeof(PostgreSqlFixture))]

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Support;

/// <summary>
/// One database on the shared server for the whole assembly; every test isolates itself in a schema of its own
/// (creating a schema takes milliseconds, a database a checkpoint).
/// </summary>
/// <remarks>
/// The database's default collation is ICU <c>en-US</c>, which sorts <c>a &lt; B &lt; é &lt; Z</c>: a comparison or an
/// ORDER BY on ids that forgot <c>COLLATE "C"</c> would sort them linguistically and the ordering tests would see it.
/// </remarks>
public static class PostgreSqlDatabase
{
    private const string Name = "sagas_tests";
    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static string? s_connectionString;

    /// <summary>The connection string of the tests' database, created on first use.</summary>
    public static async Task<string> ConnectionStringAsync(PostgreSqlFixture fixture)
    {
        if (s_connectionString is { } existing)
        {
            return existing;
        }

        await s_gate.WaitAsync();
        try
        {
            if (s_connectionString is null)
            {
                var admin = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Pooling = false };
                await using (var connection = new NpgsqlConnection(admin.ConnectionString))
                {
                    await connection.OpenAsync();
                    await using NpgsqlCommand create = new(
                        $"CREATE DATABASE {Name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US';", connection);
                    _ = await create.ExecuteNonQueryAsync();
                }

                // Tests run side by side, each with stores of their own; a small pool per store keeps them well under the
                // server's 200 connections (the default 100 per pool lets two tests that fire 200 calls at once exhaust it).
                s_connectionString = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Database = Name, MaxPoolSize = 16 }.ConnectionString;
            }

            return s_connectionString;
        }
        finally
        {
            s_gate.Release();
        }
    }

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "s_" + Guid.NewGuid().ToString("N");
}
