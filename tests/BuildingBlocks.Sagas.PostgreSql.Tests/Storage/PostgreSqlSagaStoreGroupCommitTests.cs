using BuildingBlocks.Sagas.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Storage;

/// <summary>
/// Group commit: checkpoints that arrive while one is being written go together in one transaction, each with its own
/// fenced result. To make a batch form deterministically, a test holds the row lock of a "blocker" saga in another
/// transaction: the blocker's checkpoint is sent and waits, and everything queued meanwhile forms the next batch.
/// </summary>
public sealed class PostgreSqlSagaStoreGroupCommitTests(PostgreSqlFixture fixture) : StoreFactory(fixture)
{
    private const string Owner = "node-a";
    private static readonly TimeSpan LeaseLength = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConcurrentCheckpoints_HalfWithStaleTokens_EachGetTheirOwnResult_AndOnlyTheValidOnesAreStored()
    {
        (PostgreSqlSagaStore store, SagaRecord[] held, DateTimeOffset at) = await LeasedSagasAsync(200);

        bool[] written = await Task.WhenAll(held.Select((s, i) => Task.Run(
            () => store.CheckpointAsync(Step(i % 2 == 0 ? s : s with { LeaseToken = s.LeaseToken - 1 }, at), Ct).AsTask(), Ct)));

        for (int i = 0; i < held.Length; i++)
        {
            bool valid = i % 2 == 0;
            Assert.Equal(valid, written[i]);
            await AssertStoredAsync(store, held[i], valid, at);
        }
    }

    [Fact]
    public async Task CheckpointsQueuedDuringAWrite_GoInOneTransactionPerBatch_AtMost256Each()
    {
        (PostgreSqlSagaStore store, SagaRecord[] held, DateTimeOffset at) = await LeasedSagasAsync(301);
        long before = store.Checkpoints.Transactions;

        bool[] written;
        await using (RowLock blocker = await RowLock.TakeAsync(ConnectionString, store.Schema, held[0].Id))
        {
            Task<bool> first = store.CheckpointAsync(Step(held[0], at), Ct).AsTask();
            Task<bool>[] queued = [.. held.Skip(1).Select(s => store.CheckpointAsync(Step(s, at), Ct).AsTask())];
            Assert.False(first.IsCompleted, "the blocker's checkpoint finished while its row was locked");
            await blocker.ReleaseAsync();
            written = [await first, .. await Task.WhenAll(queued)];
        }

        Assert.All(written, Assert.True);
        // The blocker alone, then the 300 queued behind it in two batches (256 + 44): 3 transactions for 301 checkpoints.
        Assert.Equal(3, store.Checkpoints.Transactions - before);
        Assert.Equal(0, store.Checkpoints.BatchesRetried);
        foreach (SagaRecord saga in held)
        {
            await AssertStoredAsync(store, saga, written: true, at);
        }
    }

    [Fact]
    public async Task ACheckpointRepeatingASequence_InABatch_FailsAlone_WhileTheOthersInTheBatchAreWritten()
    {
        (PostgreSqlSagaStore store, SagaRecord[] held, DateTimeOffset at) = await LeasedSagasAsync(51);
        const int Faulty = 17;

        Task<bool>[] queued;
        await using (RowLock blocker = await RowLock.TakeAsync(ConnectionString, store.Schema, held[0].Id))
        {
            Task<bool> first = store.CheckpointAsync(Step(held[0], at), Ct).AsTask();

            // Sequence 1 is the stored Started line: that checkpoint violates the events' primary key.
            queued = [.. held.Skip(1).Select((s, i) => store.CheckpointAsync(
                i + 1 == Faulty ? Checkpoint(s, "{\"step\":2}", at, Line(1, at, s.LeaseToken)) : Step(s, at), Ct).AsTask())];
            await blocker.ReleaseAsync();
            Assert.True(await first);
        }

        for (int i = 1; i < held.Length; i++)
        {
            if (i == Faulty)
            {
                InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => queued[i - 1]);
                Assert.Contains("repeats a sequence number", error.Message, StringComparison.Ordinal);
                await AssertStoredAsync(store, held[i], written: false, at);
            }
            else
            {
                Assert.True(await queued[i - 1], $"{held[i].Id}: an innocent checkpoint of the failed batch was refused");
                await AssertStoredAsync(store, held[i], written: true, at);
            }
        }

        Assert.Equal(1, store.Checkpoints.BatchesRetried);
    }

    [Fact]
    public async Task ACheckpointCanceledWhileQueued_IsAnsweredCanceled_AndNotWritten()
    {
        (PostgreSqlSagaStore store, SagaRecord[] held, DateTimeOffset at) = await LeasedSagasAsync(4);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        Task<bool> canceled;
        Task<bool>[] others;
        await using (RowLock blocker = await RowLock.TakeAsync(ConnectionString, store.Schema, held[0].Id))
        {
            Task<bool> first = store.CheckpointAsync(Step(held[0], at), Ct).AsTask();
            canceled = store.CheckpointAsync(Step(held[1], at), cancel.Token).AsTask();
            others = [store.CheckpointAsync(Step(held[2], at), Ct).AsTask(), store.CheckpointAsync(Step(held[3], at), Ct).AsTask()];
            await cancel.CancelAsync();
            _ = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled);
            await blocker.ReleaseAsync();
            Assert.True(await first);
        }

        Assert.All(await Task.WhenAll(others), Assert.True);
        await AssertStoredAsync(store, held[1], written: false, at);
        await AssertStoredAsync(store, held[2], written: true, at);
        await AssertStoredAsync(store, held[3], written: true, at);
    }

    [Fact]
    public async Task CheckpointsQueuedWhenTheStoreIsDisposed_FailWithObjectDisposed()
    {
        (PostgreSqlSagaStore store, SagaRecord[] held, DateTimeOffset at) = await LeasedSagasAsync(3);

        await using (RowLock blocker = await RowLock.TakeAsync(ConnectionString, store.Schema, held[0].Id))
        {
            Task<bool> first = store.CheckpointAsync(Step(held[0], at), Ct).AsTask();
            Task<bool>[] queued = [.. held.Skip(1).Select(s => store.CheckpointAsync(Step(s, at), Ct).AsTask())];
            await store.DisposeAsync();
            foreach (Task<bool> checkpoint in queued)
            {
                _ = await Assert.ThrowsAsync<ObjectDisposedException>(() => checkpoint);
            }

            _ = await Assert.ThrowsAsync<ObjectDisposedException>(() => store.CheckpointAsync(Step(held[1], at), Ct).AsTask());
            await blocker.ReleaseAsync();

            // The blocker's checkpoint was already sent: it finishes one way or the other, but does not hang.
            _ = await Record.ExceptionAsync(() => first);
        }
    }

    /// <summary><paramref name="count"/> sagas created with a Started line (sequence 1) and leased to <see cref="Owner"/>, in id order.</summary>
    private async Task<(PostgreSqlSagaStore Store, SagaRecord[] Held, DateTimeOffset At)> LeasedSagasAsync(int count)
    {
        var time = new FakeTimeProvider(Start);
        PostgreSqlSagaStore store = CreateStore(PostgreSqlDatabase.NewSchema(), time);
        _ = await CreateManyAsync(store, count, Start);
        SagaRecord[] held = [.. (await store.AcquireAsync(Owner, Names, count, LeaseLength, Ct)).OrderBy(s => s.Id, StringComparer.Ordinal)];
        Assert.Equal(count, held.Length);
        time.Advance(TimeSpan.FromSeconds(1));
        return (store, held, time.GetUtcNow());
    }

    private static SagaCheckpoint Step(SagaRecord saga, DateTimeOffset at) =>
        Checkpoint(saga, $"{{\"step\":\"{saga.Id}\"}}", at, Line(2, at, saga.LeaseToken));

    private static async Task AssertStoredAsync(PostgreSqlSagaStore store, SagaRecord held, bool written, DateTimeOffset at)
    {
        SagaRecord row = (await store.GetAsync(held.Id, Ct))!;
        IReadOnlyList<SagaEvent> events = await store.GetEventsAsync(held.Id, Ct);
        if (written)
        {
            Assert.Equal(held with { Data = $"{{\"step\":\"{held.Id}\"}}", Progress = "reserve-stock:done", UpdatedAt = at }, row);
            Assert.Equal([Line(1, Start, kind: SagaEventKind.Started), Line(2, at, held.LeaseToken)], events);
        }
        else
        {
            Assert.Equal(held, row);
            Assert.Equal([Line(1, Start, kind: SagaEventKind.Started)], events);
        }
    }

    /// <summary>Another session's transaction holding one saga row's lock, so a checkpoint of that saga waits.</summary>
    private sealed class RowLock : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;

        private RowLock(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

        public static async Task<RowLock> TakeAsync(string connectionString, string schema, string id)
        {
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync(Ct);
            NpgsqlTransaction transaction = await connection.BeginTransactionAsync(Ct);
            await using NpgsqlCommand lockRow = new($"SELECT 1 FROM \"{schema}\".sagas WHERE id = @id FOR UPDATE;", connection, transaction);
            lockRow.Parameters.Add(new NpgsqlParameter<string>("id", id));
            Assert.Equal(1, await lockRow.ExecuteScalarAsync(Ct));
            return new RowLock(connection, transaction);
        }

        public Task ReleaseAsync() => _transaction.CommitAsync(Ct);

        public async ValueTask DisposeAsync()
        {
            await _transaction.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
