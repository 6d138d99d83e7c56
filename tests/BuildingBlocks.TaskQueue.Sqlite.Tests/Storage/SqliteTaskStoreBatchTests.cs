using System.Collections;
using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.TaskQueue.Sqlite.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.Storage;

/// <summary>A batch enqueue is one transaction: whatever stops it half way, none of it is stored.</summary>
public sealed class SqliteTaskStoreBatchTests : SqliteStoreTests
{
    [Fact]
    public async Task Enqueue_BatchWithADuplicateKeyAndAnInsertTheDatabaseRefuses_StoresNoPartOfTheBatch()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        long existing = await s.EnqueueAsync(uniqueKey: "existing");

        // The empty queue name breaks the table's CHECK constraint after two rows of the batch were written.
        TaskStoreException error = await Assert.ThrowsAsync<TaskStoreException>(async () => await store.EnqueueAsync(
            [s.Insert(uniqueKey: "new-1"), s.Insert(uniqueKey: "existing"), s.Insert(uniqueKey: "new-1"), s.Insert(), s.Insert(queue: ""), s.Insert(uniqueKey: "new-2")],
            Ct));

        Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was written", error.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { existing }, (await s.ListAsync()).Select(t => t.Id).ToArray());

        // The keys of the refused batch are free, and the store goes on.
        IReadOnlyList<EnqueueResult> again = await store.EnqueueAsync([s.Insert(uniqueKey: "new-1"), s.Insert(uniqueKey: "new-2"), s.Insert(uniqueKey: "existing")], Ct);
        Assert.True(again[0].Created);
        Assert.True(again[1].Created);
        Assert.Equal(new EnqueueResult(existing, Created: false), again[2]);
        Assert.Equal(3, (await s.ListAsync()).Count);
    }

    [Fact]
    public async Task Enqueue_CanceledHalfWayThroughABatch_StoresNoPartOfIt()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);
        long existing = await s.EnqueueAsync();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var batch = new CancelOnRead([.. Enumerable.Range(0, 1_000).Select(i => s.Insert(uniqueKey: $"k-{i}"))], cancelAt: 600, cancellation);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.EnqueueAsync(batch, cancellation.Token));

        Assert.True(batch.ReadsBeforeCancel >= 600, "The batch was canceled while it was being written, not before.");
        Assert.Equal(new[] { existing }, (await s.ListAsync()).Select(t => t.Id).ToArray());
        Assert.True(Assert.Single(await store.EnqueueAsync([s.Insert(uniqueKey: "k-0")], Ct)).Created);
    }

    [Fact]
    public async Task Enqueue_LargeBatch_IsStoredInOneTransaction_WithIdsInBatchOrder()
    {
        SqliteTaskStore store = Files.CreateStore(Time);
        var s = new TaskStoreHarness(store, Time);

        IReadOnlyList<EnqueueResult> results = await store.EnqueueAsync([.. Enumerable.Range(0, 20_000).Select(i => s.Insert(payload: BitConverter.GetBytes(i)))], Ct);

        Assert.Equal(Enumerable.Range(0, 20_000).Select(i => results[0].TaskId + i), results.Select(r => r.TaskId));
        Assert.Equal(20_000, Assert.Single(await store.GetStatisticsAsync(Ct)).Ready);
        Assert.Equal(BitConverter.GetBytes(19_999), (await s.GetAsync(results[^1].TaskId)).Payload.ToArray());
    }

    /// <summary>A batch that cancels its token when the store reads element <c>cancelAt</c>.</summary>
    private sealed class CancelOnRead(TaskInsert[] items, int cancelAt, CancellationTokenSource cancellation) : IReadOnlyList<TaskInsert>
    {
        public int ReadsBeforeCancel { get; private set; }

        public int Count => items.Length;

        public TaskInsert this[int index]
        {
            get
            {
                if (index == cancelAt)
                {
                    cancellation.Cancel();
                }
                else if (!cancellation.IsCancellationRequested)
                {
                    ReadsBeforeCancel++;
                }

                return items[index];
            }
        }

        public IEnumerator<TaskInsert> GetEnumerator() => ((IEnumerable<TaskInsert>)items).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
