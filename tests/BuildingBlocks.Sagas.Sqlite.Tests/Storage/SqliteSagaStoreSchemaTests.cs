using System.Security.Cryptography;
using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Sagas.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Storage;

/// <summary>The file the store creates, and the files it refuses (left byte for byte as they were).</summary>
public sealed class SqliteSagaStoreSchemaTests : SqliteSagaStoreTests
{
    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Makes a file with <paramref name="sql"/> and closes it (rollback journal, so the file alone is the database).</summary>
    private string MakeFile(string name, string sql)
    {
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Files.PathOf(name), Pooling = false }.ToString()))
        {
            connection.Open();
            SqliteSagaTestFiles.Execute(connection, sql);
        }

        return Files.PathOf(name);
    }

    private async Task<InvalidOperationException> AssertRefusedUnchangedAsync(string name, params string[] expectedInMessage)
    {
        string path = Files.PathOf(name);
        string before = Hash(path);
        SqliteSagaStore store = Files.CreateStore(Time, name);

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CreateAsync(new SagaStoreHarness(store, Time).Saga("order-1"), [], Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.GetAsync("order-1", Ct));
        await store.DisposeAsync();

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        foreach (string expected in expectedInMessage)
        {
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(before, Hash(path));
        Assert.False(File.Exists(path + "-wal") && new FileInfo(path + "-wal").Length > 0, "The refused file got a write-ahead log.");
        return error;
    }

    [Fact]
    public async Task NewFile_GetsTheSchemaVersionApplicationIdWalAndItsTables()
    {
        SagaStoreHarness s = Harness("nested/dir/sagas.db");
        await s.CreateAsync("order-1");
        SqliteConnection connection = Files.OpenConnection("nested/dir/sagas.db");

        Assert.Equal((long)SqliteSagaStore.SchemaVersion, SqliteSagaTestFiles.Scalar(connection, "PRAGMA user_version;"));
        Assert.Equal(0x53414741L, SqliteSagaTestFiles.Scalar(connection, "PRAGMA application_id;"));
        Assert.Equal("wal", SqliteSagaTestFiles.Scalar(connection, "PRAGMA journal_mode;"));
        Assert.Equal(1L, SqliteSagaTestFiles.Scalar(connection, "SELECT count(*) FROM sagas;"));
        Assert.Equal(1L, SqliteSagaTestFiles.Scalar(connection, "SELECT count(*) FROM saga_data;"));
        Assert.Equal(1L, SqliteSagaTestFiles.Scalar(connection, "SELECT count(*) FROM saga_events;"));
        Assert.Equal(2L, SqliteSagaTestFiles.Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('ix_sagas_available', 'ix_sagas_status');"));
    }

    [Theory]
    [InlineData(SqliteSagaSynchronous.Full, 2L)]
    [InlineData(SqliteSagaSynchronous.Normal, 1L)]
    public async Task Synchronous_IsAppliedToTheWriterConnection(SqliteSagaSynchronous synchronous, long expected)
    {
        SqliteSagaStore store = Files.CreateStore(Time, configure: o => o.Synchronous = synchronous);
        await new SagaStoreHarness(store, Time).CreateAsync("order-1");

        Assert.Equal(expected, SqliteSagaTestFiles.Scalar(store.WriterConnection!, "PRAGMA synchronous;"));
        Assert.Equal(30_000L, SqliteSagaTestFiles.Scalar(store.WriterConnection!, "PRAGMA busy_timeout;"));
    }

    [Fact]
    public async Task ASecondStoreOnTheFile_UsesTheSchemaAsItIs()
    {
        SagaStoreHarness first = Harness();
        await first.CreateAsync("order-1");
        await ((SqliteSagaStore)first.Store).DisposeAsync();

        SagaStoreHarness second = Harness();
        Assert.Equal("order-1", (await second.GetAsync("order-1")).Id);
        Assert.True(await second.Store.CreateAsync(second.Saga("order-2"), [], Ct));
    }

    [Fact]
    public async Task ANewerSchemaVersion_IsRefused_AndTheFileIsNotChanged()
    {
        MakeFile("newer.db", $"CREATE TABLE sagas (id TEXT); PRAGMA application_id = {0x53414741}; PRAGMA user_version = 2;");

        await AssertRefusedUnchangedAsync("newer.db", "schema version 2", "newer than this version", "upgrade the package", "not changed");
    }

    [Fact]
    public async Task AnotherProgramsDatabase_IsRefused_AndTheFileIsNotChanged()
    {
        MakeFile("foreign.db", "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada');");

        await AssertRefusedUnchangedAsync("foreign.db", "not a saga store", "table 'customers'", "not changed");
    }

    [Fact]
    public async Task AnotherProgramsApplicationId_IsRefused_EvenWhenEmpty()
    {
        MakeFile("other-app.db", "PRAGMA application_id = 1234;");

        await AssertRefusedUnchangedAsync("other-app.db", "another program", "1234", "not changed");
    }

    [Fact]
    public async Task ATaskQueueFile_IsRefused_AndTheFileIsNotChanged()
    {
        MakeFile("tasks.db", "CREATE TABLE tasks (id INTEGER PRIMARY KEY, queue TEXT); PRAGMA user_version = 1;");

        await AssertRefusedUnchangedAsync("tasks.db", "has no 'sagas' table", "not changed");
    }

    [Fact]
    public async Task ATableWithoutTheExpectedColumns_IsRefused_NamingThem()
    {
        MakeFile(
            "mangled.db",
            """
            CREATE TABLE sagas (row_id INTEGER PRIMARY KEY, id TEXT, name TEXT, version INTEGER, status INTEGER, created_at INTEGER, updated_at INTEGER, lease_owner TEXT, lease_token INTEGER, lease_expires_at INTEGER);
            CREATE TABLE saga_data (row_id INTEGER PRIMARY KEY, data TEXT);
            CREATE TABLE saga_events (saga_id TEXT, sequence INTEGER, kind INTEGER, step TEXT, attempt INTEGER, at INTEGER, duration INTEGER, detail TEXT, lease_token INTEGER);
            PRAGMA user_version = 1;
            """);

        await AssertRefusedUnchangedAsync("mangled.db", "'saga_data' table does not match", "missing columns: progress, error", "not changed");
    }

    [Fact]
    public async Task NotASqliteFile_IsRefused_AndTheFileIsNotChanged()
    {
        string path = Files.PathOf("garbage.db");
        await File.WriteAllBytesAsync(path, [.. Enumerable.Range(0, 8192).Select(i => (byte)(i * 7))], Ct);

        await AssertRefusedUnchangedAsync("garbage.db", "not a SQLite database or is damaged", "Nothing was written");
    }

    [Fact]
    public async Task AMissingIndex_IsCreatedAgainOnOpen()
    {
        SagaStoreHarness s = Harness();
        await s.CreateAsync("order-1");
        await ((SqliteSagaStore)s.Store).DisposeAsync();
        using (SqliteConnection connection = new(new SqliteConnectionStringBuilder { DataSource = Files.PathOf(), Pooling = false }.ToString()))
        {
            connection.Open();
            SqliteSagaTestFiles.Execute(connection, "DROP INDEX ix_sagas_available;");
        }

        SagaStoreHarness reopened = Harness();

        Assert.Equal("order-1", (await reopened.AcquireOneAsync()).Id);
        SqliteConnection check = Files.OpenConnection();
        Assert.Equal(1L, SqliteSagaTestFiles.Scalar(check, "SELECT count(*) FROM sqlite_master WHERE name = 'ix_sagas_available';"));
    }

    [Fact]
    public async Task ADirectoryThatCannotBeCreated_FailsNamingIt()
    {
        string blocker = Files.PathOf("blocker");
        await File.WriteAllTextAsync(blocker, "a file where a directory should be", Ct);
        SqliteSagaStore store = Files.CreateStore(Time, "blocker/sagas.db");

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.GetAsync("order-1", Ct));

        Assert.Contains(blocker, error.Message, StringComparison.Ordinal);
    }
}
