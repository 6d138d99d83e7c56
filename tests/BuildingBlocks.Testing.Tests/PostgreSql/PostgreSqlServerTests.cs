using Npgsql;

namespace BuildingBlocks.Testing.Tests.PostgreSql;

/// <summary>Servers of their own: stop and start again, crash and recover, dispose, missing binaries.</summary>
public sealed class PostgreSqlServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StopAsync_ThenStartAgainAsync_KeepsCommittedDataOnTheSamePort()
    {
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);
        string database = PostgreSqlTestSql.Unpooled(await server.CreateDatabaseAsync(cancellationToken: Ct));
        await PostgreSqlTestSql.ExecuteAsync(database, "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 100)", Ct);
        int port = server.Port;

        await server.StopAsync(Ct);

        Assert.False(server.IsRunning);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => PostgreSqlTestSql.ScalarAsync(database, "SELECT 1", Ct));

        await server.StartAgainAsync(Ct);

        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        Assert.Equal(100L, await PostgreSqlTestSql.ScalarAsync(database, "SELECT count(*) FROM items", Ct));
    }

    [Fact]
    public async Task KillAsync_ThenStartAgainAsync_RecoversCommittedData()
    {
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);
        string database = PostgreSqlTestSql.Unpooled(await server.CreateDatabaseAsync(cancellationToken: Ct));
        await PostgreSqlTestSql.ExecuteAsync(database, "CREATE TABLE items (id int PRIMARY KEY)", Ct);
        for (int i = 1; i <= 20; i++)
        {
            // Twenty separate commits, none of them checkpointed: only the write-ahead log holds them.
            await PostgreSqlTestSql.ExecuteAsync(database, $"INSERT INTO items VALUES ({i})", Ct);
        }

        // A client in the middle of a transaction when the server dies: its uncommitted row must not survive.
        await using var inFlight = new NpgsqlConnection(database);
        await inFlight.OpenAsync(Ct);
        await using (NpgsqlCommand begin = inFlight.CreateCommand())
        {
            begin.CommandText = "BEGIN; INSERT INTO items VALUES (999)";
            await begin.ExecuteNonQueryAsync(Ct);
        }

        await server.KillAsync(Ct);

        Assert.False(server.IsRunning);
        await server.StartAgainAsync(Ct);

        Assert.Equal(20L, await PostgreSqlTestSql.ScalarAsync(database, "SELECT count(*) FROM items", Ct));
        Assert.Equal(0L, await PostgreSqlTestSql.ScalarAsync(database, "SELECT count(*) FROM items WHERE id = 999", Ct));
        Assert.Contains("automatic recovery in progress", server.ReadLogTail(200), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_StopsTheServerAndRemovesTheDirectory()
    {
        PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);
        string directory = server.DirectoryPath;
        string connectionString = PostgreSqlTestSql.Unpooled(server.ConnectionString);
        Assert.True(Directory.Exists(Path.Combine(directory, "data")));
        Assert.Equal(1, await PostgreSqlTestSql.ScalarAsync(connectionString, "SELECT 1", Ct));

        await server.DisposeAsync();

        Assert.False(Directory.Exists(directory));
        Assert.False(server.IsRunning);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => PostgreSqlTestSql.ScalarAsync(connectionString, "SELECT 1", Ct));
    }

    [Fact]
    public async Task DisposeAsync_AfterKill_RemovesTheDirectory()
    {
        PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);
        string directory = server.DirectoryPath;

        await server.KillAsync(Ct);
        await server.DisposeAsync();

        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task StartAgainAsync_WhileRunning_Throws()
    {
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAgainAsync(Ct));
    }

    [Fact]
    public async Task StartAgainAsync_WhenTheServerCannotStart_ThrowsWithTheLogsLastLines()
    {
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);
        await server.StopAsync(Ct);
        await File.AppendAllTextAsync(Path.Combine(server.DataDirectory, "postgresql.conf"), "no_such_setting_here = 1\n", Ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAgainAsync(Ct));

        Assert.Contains(server.LogFilePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("no_such_setting_here", error.Message, StringComparison.Ordinal);
        Assert.False(server.IsRunning);
    }

    [Fact]
    public void FindBinDirectory_WhenNoBinaries_ThrowsWithTheInstallCommand()
    {
        using var empty = new TempDirectory("bb-pg-missing");

        var error = Assert.Throws<InvalidOperationException>(() => PostgreSqlServer.FindBinDirectory(empty.Path, empty.File("no-such-root")));

        Assert.Contains("apt-get install -y postgresql", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindBinDirectory_PrefersPath_ThenTheNewestVersionedDirectory()
    {
        using var root = new TempDirectory("bb-pg-find");
        string onPath = CreateTools(root.File("on-path"));
        CreateTools(Path.Combine(root.File("lib"), "9.6", "bin"));
        string newest = CreateTools(Path.Combine(root.File("lib"), "16", "bin"));
        CreateTools(Path.Combine(root.File("lib"), "15", "bin"));
        Directory.CreateDirectory(Path.Combine(root.File("lib"), "17", "bin")); // no binaries: skipped

        Assert.Equal(onPath, PostgreSqlServer.FindBinDirectory($"{root.File("nothing-here")}{Path.PathSeparator}{onPath}", root.File("lib")));
        Assert.Equal(newest, PostgreSqlServer.FindBinDirectory(root.File("nothing-here"), root.File("lib")));
    }

    private static string CreateTools(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "initdb"), string.Empty);
        File.WriteAllText(Path.Combine(directory, "pg_ctl"), string.Empty);
        return directory;
    }
}
