using BuildingBlocks.TaskQueue.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Npgsql;

namespace BuildingBlocks.TaskQueue.PostgreSql.Tests.Storage;

/// <summary>What only the PostgreSQL store does: transactional enqueue, COPY batches, migrations, NOTIFY, errors.</summary>
public sealed class PostgreSqlTaskStoreTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _disposables = [];
    private string _connectionString = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _connectionString = await PostgreSqlDatabase.ConnectionStringAsync(fixture);

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }
    }

    [Fact]
    public async Task EnqueueInTheCallersTransaction_Committed_TheTaskExistsAndListenersHearOfItOnlyAtCommit()
    {
        (PostgreSqlTaskStore store, TaskQueueClient queue) = CreateQueue();
        await store.InitializeAsync(Ct);
        await using NpgsqlConnection listener = await OpenListenerAsync(store);
        List<string> heard = [];
        listener.Notification += (_, e) => heard.Add(e.Payload);

        await using NpgsqlConnection connection = await store.DataSource.OpenConnectionAsync(Ct);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(Ct);
        EnqueueResult result = await queue.EnqueueAsync(transaction, "emails", new Email("ada@example.com"), cancellationToken: Ct);
        Assert.True(result.Created);

        // Not visible to others, and not announced, until the caller commits.
        Assert.Null(await store.GetAsync(result.TaskId, Ct));
        Assert.False(await listener.WaitAsync(TimeSpan.FromMilliseconds(200), Ct));
        await transaction.CommitAsync(Ct);

        Assert.True(await listener.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(["emails"], heard);
        TaskSnapshot task = Assert.IsType<TaskSnapshot>(await store.GetAsync(result.TaskId, Ct));
        Assert.Equal(TaskState.Queued, task.State);
        Assert.Equal("""{"to":"ada@example.com"}""", System.Text.Encoding.UTF8.GetString(task.Payload.Span));
    }

    [Fact]
    public async Task EnqueueInTheCallersTransaction_RolledBack_LeavesNoTask_AndFreesTheUniqueKey()
    {
        (PostgreSqlTaskStore store, TaskQueueClient queue) = CreateQueue();
        var task = new NewTask("emails", "{}"u8.ToArray()) { UniqueKey = "welcome:42" };
        await using (NpgsqlConnection connection = await store.DataSource.OpenConnectionAsync(Ct))
        await using (NpgsqlTransaction transaction = await connection.BeginTransactionAsync(Ct))
        {
            Assert.True((await queue.EnqueueAsync(transaction, task, Ct)).Created);
            await transaction.RollbackAsync(Ct);
        }

        Assert.Empty(await store.ListAsync(new TaskQuery(), Ct));
        EnqueueResult again = await queue.EnqueueAsync(task, Ct);
        Assert.True(again.Created);
    }

    [Fact]
    public async Task EnqueueInATransaction_OnAQueueThatIsNotOnPostgreSql_SaysSo()
    {
        var queue = new TaskQueueClient(new InMemoryTaskStore());
        await using var dataSource = NpgsqlDataSource.Create(_connectionString);
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(Ct);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(Ct);

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(
            async () => await queue.EnqueueAsync(transaction, new NewTask("q", "{}"u8.ToArray()), Ct));

        Assert.Contains("InMemoryTaskStore", error.Message, StringComparison.Ordinal);
        Assert.Contains("UsePostgreSql", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LargeBatch_WrittenWithCopy_KeepsItsOrderAndEveryField()
    {
        (PostgreSqlTaskStore store, TaskQueueClient queue) = CreateQueue();
        NewTask[] tasks = [.. Enumerable.Range(0, 5_000).Select(i => new NewTask(i % 2 == 0 ? "even" : "odd", BitConverter.GetBytes(i)) { Priority = i % 7, MaxAttempts = 1 + (i % 9) })];

        IReadOnlyList<EnqueueResult> results = await queue.EnqueueBatchAsync(tasks, Ct);

        Assert.All(results, r => Assert.True(r.Created));
        Assert.Equal(results.Select(r => r.TaskId).Order(), results.Select(r => r.TaskId));
        Assert.Equal(tasks.Length, results.Select(r => r.TaskId).Distinct().Count());
        Dictionary<long, TaskSnapshot> stored = (await store.ListAsync(new TaskQuery { Limit = 10_000 }, Ct)).ToDictionary(t => t.Id);
        for (int i = 0; i < tasks.Length; i++)
        {
            TaskSnapshot task = stored[results[i].TaskId];
            Assert.Equal((tasks[i].Queue, i % 7, 1 + (i % 9), i), (task.Queue, task.Priority, task.MaxAttempts, BitConverter.ToInt32(task.Payload.Span)));
        }
    }

    [Fact]
    public async Task Batch_WithUniqueKeysRepeatedInsideIt_CreatesEachKeyOnce_AndReturnsTheFirstIdForTheRepeats()
    {
        (_, TaskQueueClient queue) = CreateQueue();
        NewTask[] tasks = [.. Enumerable.Range(0, 200).Select(i => new NewTask("q", "{}"u8.ToArray()) { UniqueKey = $"key-{i % 50}" })];

        IReadOnlyList<EnqueueResult> results = await queue.EnqueueBatchAsync(tasks, Ct);

        Assert.Equal(50, results.Count(r => r.Created));
        for (int i = 50; i < tasks.Length; i++)
        {
            Assert.Equal(new EnqueueResult(results[i % 50].TaskId, Created: false), results[i]);
        }
    }

    [Fact]
    public async Task TwoStoresOnOneSchema_ClaimConcurrently_NeverTakeTheSameTask()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        PostgreSqlTaskStore a = CreateStore(schema);
        PostgreSqlTaskStore b = CreateStore(schema);
        IReadOnlyList<EnqueueResult> enqueued = await new TaskQueueClient(a).EnqueueBatchAsync(
            [.. Enumerable.Range(0, 600).Select(_ => new NewTask("q", "{}"u8.ToArray()))], Ct);

        async Task<List<long>> ClaimAllAsync(PostgreSqlTaskStore store, string worker)
        {
            List<long> ids = [];
            while (true)
            {
                IReadOnlyList<LeasedTask> claimed = await store.ClaimAsync(new ClaimRequest("q", worker, 7, TimeSpan.FromMinutes(5)), Ct);
                if (claimed.Count == 0)
                {
                    return ids;
                }

                ids.AddRange(claimed.Select(t => t.Id));
            }
        }

        List<long>[] claims = await Task.WhenAll(Task.Run(() => ClaimAllAsync(a, "a"), Ct), Task.Run(() => ClaimAllAsync(b, "b"), Ct));

        Assert.Empty(claims[0].Intersect(claims[1]));
        Assert.Equal(enqueued.Select(r => r.TaskId).Order(), claims[0].Concat(claims[1]).Order());
    }

    [Fact]
    public async Task ConcurrentCompletions_GoneTogether_EachGetsItsOwnAnswer()
    {
        (PostgreSqlTaskStore store, TaskQueueClient queue) = CreateQueue();
        _ = await queue.EnqueueBatchAsync([.. Enumerable.Range(0, 300).Select(_ => new NewTask("q", "{}"u8.ToArray()))], Ct);
        IReadOnlyList<LeasedTask> leased = await store.ClaimAsync(new ClaimRequest("q", "w", 300, TimeSpan.FromMinutes(5)), Ct);
        Assert.Equal(300, leased.Count);

        // Every third completion presents a stale token; one task is completed twice at once.
        Task<bool>[] completions =
        [
            .. leased.Select((t, i) => Task.Run(() => store.CompleteAsync(t.Id, i % 3 == 0 ? t.LeaseToken - 1 : t.LeaseToken, Ct).AsTask(), Ct)),
            Task.Run(() => store.CompleteAsync(leased[1].Id, leased[1].LeaseToken, Ct).AsTask(), Ct),
        ];
        bool[] answers = await Task.WhenAll(completions);

        for (int i = 0; i < leased.Count; i++)
        {
            TaskSnapshot task = (await store.GetAsync(leased[i].Id, Ct))!;
            if (i % 3 == 0)
            {
                Assert.False(answers[i], $"task {leased[i].Id}: a stale token completed it");
                Assert.Equal(TaskState.Leased, task.State);
            }
            else
            {
                Assert.Equal(TaskState.Completed, task.State);
            }
        }

        Assert.True(answers[1] ^ answers[^1], "a task completed twice at once must report true exactly once");
        Assert.Equal(200, answers.Count(a => a));
    }

    [Fact]
    public async Task ManyStoresInitializingOneSchemaAtOnce_MigrateItOnce()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        PostgreSqlTaskStore[] stores = [.. Enumerable.Range(0, 6).Select(_ => CreateStore(schema))];

        await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync(Ct), Ct)));

        await using NpgsqlConnection connection = await stores[0].DataSource.OpenConnectionAsync(Ct);
        await using NpgsqlCommand versions = new($"SELECT count(*), max(version) FROM \"{schema}\".schema_version;", connection);
        await using NpgsqlDataReader reader = await versions.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal((1L, PostgreSqlTaskStore.SchemaVersion), (reader.GetInt64(0), reader.GetInt32(1)));
    }

    [Fact]
    public async Task MigrateSchemaOff_OnAMissingSchema_RefusesWithAMessageNamingTheOptionAndTheScript()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        PostgreSqlTaskStore store = CreateStore(schema, migrate: false);

        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await store.GetStatisticsAsync(Ct));

        Assert.Contains($"schema '{schema}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("MigrateSchema", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PostgreSqlTaskStore.GetMigrationScript), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateSchemaOff_AfterTheUserRanTheScript_Works()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        await using (var dataSource = NpgsqlDataSource.Create(_connectionString))
        await using (NpgsqlCommand script = dataSource.CreateCommand(PostgreSqlTaskStore.GetMigrationScript(schema)))
        {
            _ = await script.ExecuteNonQueryAsync(Ct);
        }

        PostgreSqlTaskStore store = CreateStore(schema, migrate: false);
        EnqueueResult result = await new TaskQueueClient(store).EnqueueAsync(new NewTask("q", "{}"u8.ToArray()), Ct);

        Assert.Equal(TaskState.Queued, (await store.GetAsync(result.TaskId, Ct))!.State);
    }

    [Fact]
    public async Task ASchemaOfANewerVersion_IsRefusedUnchanged()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        PostgreSqlTaskStore first = CreateStore(schema);
        await first.InitializeAsync(Ct);
        await using (NpgsqlCommand bump = first.DataSource.CreateCommand($"UPDATE \"{schema}\".schema_version SET version = 99;"))
        {
            _ = await bump.ExecuteNonQueryAsync(Ct);
        }

        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await CreateStore(schema).InitializeAsync(Ct));

        Assert.Contains("version 99", error.Message, StringComparison.Ordinal);
        Assert.Contains("Upgrade the package", error.Message, StringComparison.Ordinal);
        await using NpgsqlCommand read = first.DataSource.CreateCommand($"SELECT version FROM \"{schema}\".schema_version;");
        Assert.Equal(99, await read.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task AnUnreachableServer_GivesATaskStoreExceptionNamingTheServerAndSchema()
    {
        int closedPort = LoopbackPort.GetFree();
        var store = new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Timeout=3" });
        _disposables.Add(store);

        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await store.ClaimAsync(new ClaimRequest("q", "w", 1, TimeSpan.FromMinutes(1)), Ct));

        Assert.Contains($"port {closedPort}", error.Message, StringComparison.Ordinal);
        Assert.Contains("schema 'taskqueue'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Public", "Schema is 'Public'")]
    [InlineData("1abc", "Schema is '1abc'")]
    [InlineData("a;drop table x", "lower-case SQL identifier")]
    public void AnInvalidSchemaName_IsRefusedByTheConstructor(string schema, string expected)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = _connectionString, Schema = schema }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private (PostgreSqlTaskStore Store, TaskQueueClient Queue) CreateQueue()
    {
        PostgreSqlTaskStore store = CreateStore(PostgreSqlDatabase.NewSchema());
        return (store, new TaskQueueClient(store));
    }

    private PostgreSqlTaskStore CreateStore(string schema, bool migrate = true)
    {
        var store = new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = _connectionString, Schema = schema, MigrateSchema = migrate });
        _disposables.Add(store);
        return store;
    }

    private static async Task<NpgsqlConnection> OpenListenerAsync(PostgreSqlTaskStore store)
    {
        NpgsqlConnection connection = await store.DataSource.OpenConnectionAsync(Ct);
        await using NpgsqlCommand listen = new($"LISTEN \"{store.Channel}\";", connection);
        _ = await listen.ExecuteNonQueryAsync(Ct);
        return connection;
    }

    private sealed record Email(string To);
}
