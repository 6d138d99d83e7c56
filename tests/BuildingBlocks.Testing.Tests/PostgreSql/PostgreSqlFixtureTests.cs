using Npgsql;

namespace BuildingBlocks.Testing.Tests.PostgreSql;

/// <summary>The shared server of the assembly fixture: it answers, and each database is isolated.</summary>
public sealed class PostgreSqlFixtureTests(PostgreSqlFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Server_WhenStarted_AnswersSelectOne()
    {
        object? result = await PostgreSqlTestSql.ScalarAsync(fixture.ConnectionString, "SELECT 1", Ct);

        Assert.Equal(1, result);
        Assert.True(fixture.Server.IsRunning);
        Assert.Contains($"Port={fixture.Server.Port}", fixture.ConnectionString, StringComparison.Ordinal);
        Assert.Contains("Host=127.0.0.1", fixture.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_Configuration_KeepsDurabilityAndAllows200Connections()
    {
        string connectionString = fixture.ConnectionString;

        Assert.Equal("on", await PostgreSqlTestSql.ScalarAsync(connectionString, "SHOW fsync", Ct));
        Assert.Equal("on", await PostgreSqlTestSql.ScalarAsync(connectionString, "SHOW synchronous_commit", Ct));
        Assert.Equal("200", await PostgreSqlTestSql.ScalarAsync(connectionString, "SHOW max_connections", Ct));
        Assert.Equal("128MB", await PostgreSqlTestSql.ScalarAsync(connectionString, "SHOW shared_buffers", Ct));
        Assert.Equal("127.0.0.1", await PostgreSqlTestSql.ScalarAsync(connectionString, "SHOW listen_addresses", Ct));
        Assert.Equal("UTF8", await PostgreSqlTestSql.ScalarAsync(connectionString, "SHOW server_encoding", Ct));
    }

    [Fact]
    public async Task CreateDatabaseAsync_GivesIsolatedDatabases()
    {
        string first = await fixture.CreateDatabaseAsync(cancellationToken: Ct);
        string second = await fixture.CreateDatabaseAsync(cancellationToken: Ct);

        await PostgreSqlTestSql.ExecuteAsync(first, "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1), (2)", Ct);
        await PostgreSqlTestSql.ExecuteAsync(second, "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (7)", Ct);

        Assert.NotEqual(first, second);
        Assert.Equal(2L, await PostgreSqlTestSql.ScalarAsync(first, "SELECT count(*) FROM items", Ct));
        Assert.Equal(7, await PostgreSqlTestSql.ScalarAsync(second, "SELECT id FROM items", Ct));
        Assert.Equal(
            new NpgsqlConnectionStringBuilder(first).Database,
            await PostgreSqlTestSql.ScalarAsync(first, "SELECT current_database()", Ct));
    }

    [Fact]
    public async Task CreateDatabaseAsync_WithName_UsesThatName()
    {
        string name = $"named_{Guid.NewGuid():N}";

        string connectionString = await fixture.CreateDatabaseAsync(name, Ct);

        Assert.Equal(name, await PostgreSqlTestSql.ScalarAsync(connectionString, "SELECT current_database()", Ct));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1starts_with_digit")]
    [InlineData("has-dash")]
    [InlineData("quote\"d")]
    [InlineData("semi;colon")]
    public async Task CreateDatabaseAsync_WithUnsafeName_Throws(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.CreateDatabaseAsync(name, Ct));
    }

    [Fact]
    public async Task Server_ServesManyConnectionsAtOnce()
    {
        string connectionString = await fixture.CreateDatabaseAsync(cancellationToken: Ct);
        var connections = new List<NpgsqlConnection>();
        try
        {
            // More than Npgsql's default pool of 100 would allow, fewer than max_connections (200).
            var unpooled = PostgreSqlTestSql.Unpooled(connectionString);
            for (int i = 0; i < 150; i++)
            {
                var connection = new NpgsqlConnection(unpooled);
                connections.Add(connection);
                await connection.OpenAsync(Ct);
            }

            Assert.True((long)(await PostgreSqlTestSql.ScalarAsync(unpooled, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'", Ct))! >= 151);
        }
        finally
        {
            foreach (NpgsqlConnection connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
