using BuildingBlocks.Sagas.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Storage;

/// <summary>The tables are created on first use under an advisory lock, versioned, and never touched when not ours or newer.</summary>
public sealed class PostgreSqlSagaSchemaTests(PostgreSqlFixture fixture) : StoreFactory(fixture)
{
    [Fact]
    public async Task ManyStoresInitializingOneSchemaAtOnce_CreateItOnce()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        PostgreSqlSagaStore[] stores = [.. Enumerable.Range(0, 6).Select(_ => CreateStore(schema))];

        await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync(Ct), Ct)));

        await using NpgsqlCommand versions = stores[0].DataSource.CreateCommand($"SELECT count(*), max(version) FROM \"{schema}\".saga_schema_version;");
        await using NpgsqlDataReader reader = await versions.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal((1L, PostgreSqlSagaStore.SchemaVersion), (reader.GetInt64(0), reader.GetInt32(1)));
    }

    [Fact]
    public async Task TablesOfANewerVersion_AreRefusedWithAClearMessage_AndLeftUnchanged()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        PostgreSqlSagaStore first = CreateStore(schema);
        Assert.True(await first.CreateAsync(Saga("s1", Start), [], Ct));
        await using (NpgsqlCommand bump = first.DataSource.CreateCommand($"UPDATE \"{schema}\".saga_schema_version SET version = 99;"))
        {
            _ = await bump.ExecuteNonQueryAsync(Ct);
        }

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await CreateStore(schema).GetAsync("s1", Ct));

        Assert.Contains($"schema '{schema}' at version 99", error.Message, StringComparison.Ordinal);
        Assert.Contains($"understands ({PostgreSqlSagaStore.SchemaVersion})", error.Message, StringComparison.Ordinal);
        Assert.Contains("Upgrade the package", error.Message, StringComparison.Ordinal);
        await using NpgsqlCommand read = first.DataSource.CreateCommand($"SELECT (SELECT version FROM \"{schema}\".saga_schema_version), (SELECT count(*) FROM \"{schema}\".sagas);");
        await using NpgsqlDataReader reader = await read.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal((99, 1L), (reader.GetInt32(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task ASagasTableThisPackageDidNotCreate_IsRefusedNamingIt_AndLeftAlone()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using (NpgsqlCommand foreign = dataSource.CreateCommand($"CREATE SCHEMA \"{schema}\"; CREATE TABLE \"{schema}\".sagas (id int PRIMARY KEY, note text); INSERT INTO \"{schema}\".sagas VALUES (1, 'theirs');"))
        {
            _ = await foreign.ExecuteNonQueryAsync(Ct);
        }

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await CreateStore(schema).InitializeAsync(Ct));

        Assert.Contains($"table '{schema}.sagas'", error.Message, StringComparison.Ordinal);
        Assert.Contains("did not create", error.Message, StringComparison.Ordinal);
        Assert.Contains("Choose another Schema", error.Message, StringComparison.Ordinal);
        await using NpgsqlCommand read = dataSource.CreateCommand($"SELECT note, to_regclass('\"{schema}\".saga_schema_version') IS NULL FROM \"{schema}\".sagas;");
        await using NpgsqlDataReader reader = await read.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal(("theirs", true), (reader.GetString(0), reader.GetBoolean(1)));
    }

    [Fact]
    public async Task MigrateSchemaOff_OnMissingTables_RefusesNamingTheOptionAndTheScript()
    {
        string schema = PostgreSqlDatabase.NewSchema();

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await CreateStore(schema, migrate: false).CountByStatusAsync(Ct));

        Assert.Contains($"schema '{schema}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("MigrateSchema", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PostgreSqlSagaStore.GetMigrationScript), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateSchemaOff_AfterTheUserRanTheScript_Works()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        await using (NpgsqlDataSource dataSource = NpgsqlDataSource.Create(ConnectionString))
        await using (NpgsqlCommand script = dataSource.CreateCommand(PostgreSqlSagaStore.GetMigrationScript(schema)))
        {
            _ = await script.ExecuteNonQueryAsync(Ct);
        }

        PostgreSqlSagaStore store = CreateStore(schema, migrate: false);

        Assert.True(await store.CreateAsync(Saga("s1", Start), [Line(1, Start)], Ct));
        Assert.Single(await store.GetEventsAsync("s1", Ct));
    }
}
