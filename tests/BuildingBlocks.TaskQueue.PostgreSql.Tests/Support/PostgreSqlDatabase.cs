using BuildingBlocks.Testing;

[assembly: AssemblyFixture(typeof(PostgreSqlFixture))]

namespace BuildingBlocks.TaskQueue.PostgreSql.Tests.Support;

/// <summary>
/// One database on the shared server for the whole assembly; every test isolates itself in a schema of its own
/// (creating a schema takes milliseconds, a database a checkpoint).
/// </summary>
public static class PostgreSqlDatabase
{
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
            return s_connectionString ??= await fixture.CreateDatabaseAsync("taskqueue_tests");
        }
        finally
        {
            s_gate.Release();
        }
    }

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N");
}
