using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.TaskQueue.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Storage;

/// <summary>
/// Writes that queue up behind a busy file are committed together (group commit): each one still succeeds or fails on
/// its own, and only what succeeded is stored.
/// </summary>
public sealed class SqliteTaskStoreGroupCommitTests : SqliteStoreTests
{
    [Fact]
    public async Task WritesQueuedBehindALockedFile_OneOfThemFailing_TheOthersAreCommittedAndTheFailedOneChangesNothing()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        long[] healthy = [.. await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => s.EnqueueAsync()))];
        long damaged = await s.EnqueueAsync();
        SqliteConnection other = Files.OpenConnection();
        SqliteTestFiles.Execute(other, $"UPDATE tasks SET state = -1 WHERE id = {damaged};");

        // Another connection holds the write lock, so the store's writes pile up and commit in a group once it lets go.
        SqliteTestFiles.Execute(other, "BEGIN IMMEDIATE;");
        // (Each call on a pool thread: SQLite's busy handler blocks the thread of the write that waits for the file.)
        Task<CancelResult>[] cancels = [.. healthy.Select(id => Task.Run(() => store.CancelAsync(id, Ct).AsTask(), Ct))];
        Task<CancelResult> cancelDamaged = Task.Run(() => store.CancelAsync(damaged, Ct).AsTask(), Ct);
        Task<IReadOnlyList<EnqueueResult>>[] enqueues = [.. Enumerable.Range(0, 20).Select(i => Task.Run(() => store.EnqueueAsync([s.Insert(uniqueKey: $"late-{i}")], Ct).AsTask(), Ct))];
        await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, Ct);
        Assert.All(cancels, c => Assert.False(c.IsCompleted, "a write finished while another connection held the file's write lock"));
        SqliteTestFiles.Execute(other, "COMMIT;");

        Assert.All(await Task.WhenAll(cancels), r => Assert.Equal(CancelResult.Canceled, r));
        CorruptTaskException error = await Assert.ThrowsAsync<CorruptTaskException>(() => cancelDamaged);
        Assert.Equal((damaged, "state"), (error.TaskId, error.Column));
        EnqueueResult[] created = [.. (await Task.WhenAll(enqueues)).Select(Assert.Single)];
        Assert.All(created, r => Assert.True(r.Created));

        // What the other connection reads is what the callers were told.
        Assert.Equal((long)healthy.Length, SqliteTestFiles.Scalar(other, $"SELECT COUNT(*) FROM tasks WHERE state = {(int)TaskState.Canceled};"));
        Assert.Equal(-1L, SqliteTestFiles.Scalar(other, $"SELECT state FROM tasks WHERE id = {damaged};"));
        Assert.Equal(DBNull.Value, SqliteTestFiles.Scalar(other, $"SELECT finished_at FROM tasks WHERE id = {damaged};"));
        Assert.Equal(20L, SqliteTestFiles.Scalar(other, "SELECT COUNT(*) FROM tasks WHERE unique_key LIKE 'late-%';"));
        Assert.Equal(created.Select(r => r.TaskId).Order(), created.Select(r => r.TaskId).Distinct().Order());
    }

    [Fact]
    public async Task AWriteCanceledWhileQueuedBehindALockedFile_IsNotApplied_AndTheOthersAre()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        long first = await s.EnqueueAsync();
        long second = await s.EnqueueAsync();
        SqliteConnection other = Files.OpenConnection();

        SqliteTestFiles.Execute(other, "BEGIN IMMEDIATE;");
        // SQLite's busy handler blocks the thread of the write that waits for the file, so the leader gets its own; it
        // takes the queued writes when it starts, so the second write is issued once the leader is waiting.
        Task<CancelResult> leader = Task.Run(() => store.CancelAsync(first, Ct).AsTask(), Ct);
        await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, Ct);
        using var gaveUp = new CancellationTokenSource();
        Task<CancelResult> abandoned = store.CancelAsync(second, gaveUp.Token).AsTask();
        await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, Ct);
        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        SqliteTestFiles.Execute(other, "COMMIT;");

        Assert.Equal(CancelResult.Canceled, await leader);
        Assert.Equal((long)TaskState.Canceled, SqliteTestFiles.Scalar(other, $"SELECT state FROM tasks WHERE id = {first};"));
        Assert.Equal((long)TaskState.Queued, SqliteTestFiles.Scalar(other, $"SELECT state FROM tasks WHERE id = {second};"));
    }
}
