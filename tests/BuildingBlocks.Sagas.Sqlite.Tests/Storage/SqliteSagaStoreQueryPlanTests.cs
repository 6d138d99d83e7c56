using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Sagas.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Storage;

/// <summary>
/// The statements that must stay fast however many sagas the file holds use the indexes meant for them (the plans
/// SQLite reports, not timings).
/// </summary>
public sealed class SqliteSagaStoreQueryPlanTests : SqliteSagaStoreTests
{
    private static string Plan(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var lines = new List<string>();
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            lines.Add(reader.GetString(3));
        }

        return string.Join(" | ", lines);
    }

    [Fact]
    public async Task Acquire_ReadsOnlyTheCoveringPartialIndex()
    {
        SagaStoreHarness s = Harness();
        await s.CreateManyAsync(Enumerable.Range(0, 50).Select(i => $"saga-{i:D2}"));
        SqliteConnection connection = Files.OpenConnection();

        string plan = Plan(
            connection,
            SagaWriter.AcquireSelectSql,
            ("$now", 1L), ("$names", "[\"order-fulfilment\"]"), ("$limit", 10));

        Assert.Contains("USING COVERING INDEX ix_sagas_available", plan, StringComparison.Ordinal);
        Assert.Contains("<expr><?", plan, StringComparison.Ordinal);
    }
}
