using BuildingBlocks.Sagas.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Storage;

/// <summary>What only the PostgreSQL store does: durability across instances, ordinal ids, its statements, bad input, errors.</summary>
public sealed class PostgreSqlSagaStoreTests(PostgreSqlFixture fixture) : StoreFactory(fixture)
{
    [Fact]
    public async Task ASagaAndItsHistory_WrittenByOneStore_AreReadBackExactlyByANewStoreInstance()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var time = new FakeTimeProvider(Start);
        string data = "{\"note\":\"äöü – 😀 \\u0000\",\"big\":\"" + new string('x', 300_000) + "\"}";
        SagaRecord saga = Saga("order-1", Start) with { Error = "earlier: TimeoutException", Version = 7 };
        SagaEvent odd = new()
        {
            Sequence = 2,
            Kind = SagaEventKind.StepAttemptFailed,
            Step = "charge-card",
            Attempt = 3,
            At = Start.AddTicks(1230),
            Duration = TimeSpan.FromTicks(12_345_677), // sub-microsecond: kept as ticks
            Detail = "HttpRequestException: 503",
            LeaseToken = 1,
        };
        SagaRecord leased;
        await using (var first = new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { ConnectionString = ConnectionString, Schema = schema }, time))
        {
            Assert.True(await first.CreateAsync(saga, [Line(1, Start, kind: SagaEventKind.Started)], Ct));
            leased = Assert.Single(await first.AcquireAsync("node-a", Names, 10, TimeSpan.FromSeconds(30), Ct));
            Assert.True(await first.CheckpointAsync(Checkpoint(leased, data, Start.AddTicks(20), odd), Ct));
        }

        PostgreSqlSagaStore second = CreateStore(schema, time);
        SagaRecord? read = await second.GetAsync("order-1", Ct);

        Assert.Equal(
            saga with
            {
                Data = data,
                Progress = "reserve-stock:done",
                Error = null,
                UpdatedAt = Start.AddTicks(20),
                LeaseOwner = "node-a",
                LeaseToken = 1,
                LeaseExpiresAt = Start.AddSeconds(30),
            },
            read);
        Assert.Equal(TimeSpan.Zero, read!.UpdatedAt.Offset);
        Assert.Equal([Line(1, Start, kind: SagaEventKind.Started), odd], await second.GetEventsAsync("order-1", Ct));
    }

    [Fact]
    public async Task Query_OrdersAndPagesIdsOrdinally_InADatabaseWhoseDefaultCollationIsLinguistic()
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());
        string[] ids = ["a", "Z", "é", "B", "ab", "aB", "_x"];
        foreach (string id in ids)
        {
            Assert.True(await store.CreateAsync(Saga(id, Start), [], Ct));
        }

        // The database itself sorts these linguistically (a, ab, aB, B, é, Z): without COLLATE "C" the store would too.
        await using (NpgsqlCommand linguistic = store.DataSource.CreateCommand("SELECT string_agg(v, ',' ORDER BY v) FROM unnest(@ids) AS v;"))
        {
            linguistic.Parameters.Add(new NpgsqlParameter<string[]>("ids", ids));
            Assert.NotEqual(string.Join(',', ids.Order(StringComparer.Ordinal)), await linguistic.ExecuteScalarAsync(Ct));
        }

        IReadOnlyList<SagaRecord> all = await store.QueryAsync(new SagaQuery(), Ct);
        IReadOnlyList<SagaRecord> afterB = await store.QueryAsync(new SagaQuery { AfterId = "B", Limit = 3 }, Ct);

        Assert.Equal(ids.Order(StringComparer.Ordinal), all.Select(s => s.Id));
        Assert.Equal(["Z", "_x", "a"], afterB.Select(s => s.Id));
    }

    [Fact]
    public async Task Acquire_TakesEqualUpdateTimesInOrdinalIdOrder()
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());
        foreach (string id in (string[])["b", "a", "B", "é"])
        {
            Assert.True(await store.CreateAsync(Saga(id, Start), [], Ct));
        }

        Assert.True(await store.CreateAsync(Saga("0-newer", Start.AddTicks(10)), [], Ct));

        IReadOnlyList<SagaRecord> first = await store.AcquireAsync("node-a", Names, 3, TimeSpan.FromSeconds(30), Ct);
        IReadOnlyList<SagaRecord> rest = await store.AcquireAsync("node-a", Names, 10, TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(["B", "a", "b"], first.Select(s => s.Id));
        Assert.Equal(["é", "0-newer"], rest.Select(s => s.Id));
    }

    [Fact]
    public async Task Acquire_ReadsItsCandidatesFromThePartialIndexInOrder_WithoutSorting()
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());
        _ = await CreateManyAsync(store, 1_000, Start);
        await using (NpgsqlCommand analyze = store.DataSource.CreateCommand($"ANALYZE \"{store.Schema}\".sagas;"))
        {
            _ = await analyze.ExecuteNonQueryAsync(Ct);
        }

        await using NpgsqlCommand explain = store.DataSource.CreateCommand("EXPLAIN " + store.AcquireSql);
        explain.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", Start));
        explain.Parameters.Add(new NpgsqlParameter<string[]>("names", Names));
        explain.Parameters.Add(new NpgsqlParameter<int>("limit", 10));
        explain.Parameters.Add(new NpgsqlParameter<string>("owner", "node-a"));
        explain.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("expires", Start.AddMinutes(1)));
        List<string> plan = [];
        await using (NpgsqlDataReader reader = await explain.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                plan.Add(reader.GetString(0));
            }
        }

        // The candidates come from the partial index already in order: no sort of every active saga. (How the few
        // chosen rows are then joined back is the planner's choice; on a small table it may scan it.)
        string text = string.Join('\n', plan);
        int cte = text.IndexOf("CTE next", StringComparison.Ordinal);
        Assert.True(cte >= 0 && text.IndexOf("Index Scan using ix_sagas_acquire", cte, StringComparison.Ordinal) > cte, text);
        Assert.False(text.Contains("Sort", StringComparison.Ordinal), text);
    }

    [Fact]
    public async Task Checkpoint_WithASequenceAlreadyStored_IsRefusedWithAClearMessage_AndWritesNothing()
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());
        Assert.True(await store.CreateAsync(Saga("s1", Start), [Line(1, Start, kind: SagaEventKind.Started)], Ct));
        SagaRecord leased = Assert.Single(await store.AcquireAsync("node-a", Names, 1, TimeSpan.FromSeconds(30), Ct));

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(
            async () => await store.CheckpointAsync(Checkpoint(leased, "{\"changed\":true}", Start.AddSeconds(1), Line(2, Start, 1), Line(1, Start, 1)), Ct));

        Assert.Contains("checkpoint saga 's1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("sequence number already stored", error.Message, StringComparison.Ordinal);
        Assert.Equal(leased, await store.GetAsync("s1", Ct));
        Assert.Equal([Line(1, Start, kind: SagaEventKind.Started)], await store.GetEventsAsync("s1", Ct));
    }

    [Fact]
    public async Task Create_WithTheSameSequenceTwice_IsRefused_AndLeavesNoSaga()
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());

        _ = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CreateAsync(Saga("s1", Start), [Line(1, Start), Line(1, Start)], Ct));

        Assert.Null(await store.GetAsync("s1", Ct));
        Assert.True(await store.CreateAsync(Saga("s1", Start), [Line(1, Start)], Ct));
    }

    [Theory]
    [InlineData("data")]
    [InlineData("error")]
    [InlineData("detail")]
    public async Task Text_HoldingTheNulCharacter_IsRefusedNamingTheField_AndStoresNothing(string field)
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());
        SagaRecord saga = Saga("s1", Start);
        SagaEvent line = Line(1, Start);
        (saga, line, string expected) = field switch
        {
            "data" => (saga with { Data = "a\0b" }, line, "saga.Data"),
            "error" => (saga with { Error = "\0" }, line, "saga.Error"),
            _ => (saga, line with { Detail = "x\0" }, "events[0].Detail"),
        };

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(saga, [line], Ct));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync("s1", Ct));
    }

    [Fact]
    public async Task Ids_OfUpTo200Characters_AreStored_LongerOnesAreRefused()
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());
        string longest = new('é', 200);

        Assert.True(await store.CreateAsync(Saga(longest, Start), [], Ct));
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(Saga(longest + "x", Start), [], Ct));

        Assert.Equal(longest, (await store.GetAsync(longest, Ct))?.Id);
        Assert.Contains("201 characters", error.Message, StringComparison.Ordinal);
        Assert.Single(await store.QueryAsync(new SagaQuery(), Ct));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_001)]
    public async Task Query_WithALimitOutside1To1000_IsRefused(int limit)
    {
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema());

        ArgumentOutOfRangeException error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.QueryAsync(new SagaQuery { Limit = limit }, Ct));

        Assert.Contains($"SagaQuery.Limit is {limit}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableServer_GivesAnExceptionNamingTheServerTheSchemaAndTheCall()
    {
        int closedPort = LoopbackPort.GetFree();
        await using var store = new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { ConnectionString = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Timeout=3" });

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.GetAsync("s1", Ct));

        Assert.Contains($"port {closedPort}", error.Message, StringComparison.Ordinal);
        Assert.Contains("schema 'sagas'", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NpgsqlException>(error.InnerException);
    }

    [Fact]
    public async Task AStoreOnTheApplicationsDataSource_LeavesItOpenWhenDisposed()
    {
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(ConnectionString);
        var store = new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { DataSource = dataSource, Schema = PostgreSqlDatabase.NewSchema() });
        Assert.True(await store.CreateAsync(Saga("s1", Start), [], Ct));

        await store.DisposeAsync();

        await using NpgsqlCommand count = dataSource.CreateCommand($"SELECT count(*) FROM \"{store.Schema}\".sagas;");
        Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
        _ = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetAsync("s1", Ct));
    }

    [Theory]
    [InlineData("Sagas", "Schema is 'Sagas'")]
    [InlineData("1abc", "lower-case SQL identifier")]
    [InlineData("a;drop table x", "lower-case SQL identifier")]
    [InlineData("pg_sagas", "reserved")]
    public void AnInvalidSchemaName_IsRefusedByTheConstructor(string schema, string expected)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { ConnectionString = ConnectionString, Schema = schema }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PostgreSqlSagaStore.GetMigrationScript(schema));
    }
}
