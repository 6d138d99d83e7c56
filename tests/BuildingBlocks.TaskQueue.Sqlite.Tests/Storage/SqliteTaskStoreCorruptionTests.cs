using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.TaskQueue.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Storage;

/// <summary>Files and rows the store did not write: refused with a clear error, never changed.</summary>
public sealed class SqliteTaskStoreCorruptionTests : SqliteStoreTests
{
    [Fact]
    public async Task AnyCall_OnAFileThatIsNotASqliteDatabase_ThrowsTaskStoreExceptionNamingThePath_AndLeavesItsBytesUnchanged()
    {
        byte[] garbage = [.. Enumerable.Range(0, 8192).Select(i => (byte)((i * 7919) % 251))];
        string path = Files.PathOf("not-a-database.db");
        await File.WriteAllBytesAsync(path, garbage, Ct);
        SqliteTaskStore store = Files.CreateStore(Time, "not-a-database.db");
        var s = new TaskStoreHarness(store, Time);

        List<TaskStoreException> errors =
        [
            await Assert.ThrowsAsync<TaskStoreException>(async () => await store.EnqueueAsync([s.Insert()], Ct)),
            await Assert.ThrowsAsync<TaskStoreException>(async () => await store.ClaimAsync(new ClaimRequest("orders", "w", 1, TaskStoreHarness.DefaultLease), Ct)),
            await Assert.ThrowsAsync<TaskStoreException>(async () => await store.GetAsync(1, Ct)),
            await Assert.ThrowsAsync<TaskStoreException>(async () => await store.GetStatisticsAsync(Ct)),
        ];

        Assert.All(errors, e =>
        {
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("not a SQLite database", e.Message, StringComparison.Ordinal);
        });
        Assert.Equal(garbage, await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task Get_RowWithAnUnknownState_ThrowsCorruptTaskExceptionNamingTheIdAndColumn_WhileClaimsOfOtherRowsKeepWorking()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        long first = await s.EnqueueAsync(priority: 1);
        long damaged = await s.EnqueueAsync(priority: 9);
        long last = await s.EnqueueAsync(priority: 1);
        SqliteTestFiles.Execute(Files.OpenConnection(), $"UPDATE tasks SET state = 42 WHERE id = {damaged};");

        CorruptTaskException error = await Assert.ThrowsAsync<CorruptTaskException>(async () => await store.GetAsync(damaged, Ct));

        Assert.Equal(damaged, error.TaskId);
        Assert.Equal("state", error.Column);
        Assert.Contains($"Task {damaged}", error.Message, StringComparison.Ordinal);
        Assert.Contains("'state'", error.Message, StringComparison.Ordinal);
        Assert.Contains("42", error.Message, StringComparison.Ordinal);

        IReadOnlyList<LeasedTask> claimed = await s.ClaimAsync();
        Assert.Equal(new[] { first, last }, claimed.Select(t => t.Id).ToArray());
        Assert.True(await store.CompleteAsync(first, claimed[0].LeaseToken, Ct));
        Assert.Equal(TaskState.Completed, (await s.GetAsync(first)).State);

        // Listing every state meets the row and says so; a state filter never matches it.
        Assert.Equal(damaged, (await Assert.ThrowsAsync<CorruptTaskException>(async () => await s.ListAsync())).TaskId);
        Assert.Equal(new[] { last }, (await s.ListAsync(state: TaskState.Leased)).Select(t => t.Id).ToArray());
        Assert.Equal(new[] { first }, (await s.ListAsync(state: TaskState.Completed)).Select(t => t.Id).ToArray());
        Assert.Equal(1, Assert.Single(await store.GetStatisticsAsync(Ct)).Completed);
        Assert.Equal(new SweepResult(0, 0), await s.SweepAsync());

        // The row is left exactly as it was.
        Assert.Equal(42L, SqliteTestFiles.Scalar(Files.OpenConnection(), $"SELECT state FROM tasks WHERE id = {damaged};"));
    }

    [Fact]
    public async Task Claim_WhenTheNextDueRowIsDamaged_DeadLettersItWithTheReason_AndClaimsTheHealthyRows()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        long healthy = await s.EnqueueAsync(priority: 1);
        long damaged = await s.EnqueueAsync(priority: 2);
        SqliteConnection other = Files.OpenConnection();
        SqliteTestFiles.Execute(other, $"UPDATE tasks SET max_attempts = 4294967296 WHERE id = {damaged};");

        // The damaged row matches the claim: it must neither block the queue nor be handed to a worker half-read.
        Assert.Equal(healthy, (await s.ClaimOneAsync()).Id);

        Assert.Equal(3L, SqliteTestFiles.Scalar(other, $"SELECT state FROM tasks WHERE id = {damaged};"));
        Assert.Equal(4294967296L, SqliteTestFiles.Scalar(other, $"SELECT max_attempts FROM tasks WHERE id = {damaged};"));
        Assert.Equal(0L, SqliteTestFiles.Scalar(other, $"SELECT attempts FROM tasks WHERE id = {damaged};"));
        string error = (string)SqliteTestFiles.Scalar(other, $"SELECT last_error FROM tasks WHERE id = {damaged};")!;
        Assert.Contains($"Task {damaged} is stored with an invalid 'max_attempts'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_RowWithAnUnknownState_ThrowsCorruptTaskException_AndChangesNothing()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        long id = await new TaskStoreHarness(store, Time).EnqueueAsync();
        SqliteConnection other = Files.OpenConnection();
        SqliteTestFiles.Execute(other, $"UPDATE tasks SET state = -1 WHERE id = {id};");

        CorruptTaskException error = await Assert.ThrowsAsync<CorruptTaskException>(async () => await store.CancelAsync(id, Ct));

        Assert.Equal((id, "state"), (error.TaskId, error.Column));
        Assert.Equal(-1L, SqliteTestFiles.Scalar(other, $"SELECT state FROM tasks WHERE id = {id};"));
        Assert.Equal(DBNull.Value, SqliteTestFiles.Scalar(other, $"SELECT finished_at FROM tasks WHERE id = {id};"));
    }

    [Theory]
    [InlineData("run_at", "-5")]
    [InlineData("enqueued_at", "9223372036854775807")]
    [InlineData("priority", "4294967296")]
    public async Task Get_RowWithAValueOutOfRange_ThrowsCorruptTaskExceptionNamingTheColumn(string column, string value)
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        long id = await new TaskStoreHarness(store, Time).EnqueueAsync();
        SqliteTestFiles.Execute(Files.OpenConnection(), $"UPDATE tasks SET {column} = {value} WHERE id = {id};");

        CorruptTaskException error = await Assert.ThrowsAsync<CorruptTaskException>(async () => await store.GetAsync(id, Ct));

        Assert.Equal((id, column), (error.TaskId, error.Column));
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstUse_FileWithANewerSchemaVersion_IsRefusedWithAClearMessage_AndLeftUnchanged()
    {
        int newer = SqliteTaskStore.SchemaVersion + 1;
        using (SqliteConnection other = Files.OpenConnection())
        {
            SqliteTestFiles.Execute(other, $"CREATE TABLE tasks (id INTEGER PRIMARY KEY, future_column BLOB); PRAGMA user_version = {newer};");
        }

        byte[] before = await File.ReadAllBytesAsync(Files.PathOf(), Ct);
        SqliteTaskStore store = Files.CreateStore(Time);

        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await new TaskStoreHarness(store, Time).EnqueueAsync());

        Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"newer than this version of BuildingBlocks.TaskQueue.Sqlite supports ({SqliteTaskStore.SchemaVersion})", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TaskStoreException>(async () => await store.GetStatisticsAsync(Ct));
        Assert.Equal(before, await File.ReadAllBytesAsync(Files.PathOf(), Ct));
        Assert.Equal("delete", SqliteTestFiles.Scalar(Files.OpenConnection(), "PRAGMA journal_mode;"));
    }

    [Fact]
    public async Task FirstUse_DatabaseOfAnotherProgram_IsRefusedNamingItsTables_AndLeftUnchanged()
    {
        using (SqliteConnection other = Files.OpenConnection())
        {
            SqliteTestFiles.Execute(other, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada');");
        }

        byte[] before = await File.ReadAllBytesAsync(Files.PathOf(), Ct);
        SqliteTaskStore store = Files.CreateStore(Time);

        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await store.GetAsync(1, Ct));

        Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("not a task store", error.Message, StringComparison.Ordinal);
        Assert.Contains("table 'customers'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(Files.PathOf(), Ct));
    }

    [Fact]
    public async Task FirstUse_TaskStoreFileWhoseTableDoesNotMatch_IsRefusedNamingTheMissingColumns()
    {
        using (SqliteConnection other = Files.OpenConnection())
        {
            SqliteTestFiles.Execute(other, $"CREATE TABLE tasks (id INTEGER PRIMARY KEY, queue TEXT, body TEXT); PRAGMA user_version = {SqliteTaskStore.SchemaVersion};");
        }

        SqliteTaskStore store = Files.CreateStore(Time);

        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await new TaskStoreHarness(store, Time).EnqueueAsync());

        Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing columns: state, payload,", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, SqliteTestFiles.Scalar(Files.OpenConnection(), "SELECT COUNT(*) FROM tasks;"));
    }
}
