using BuildingBlocks.Sagas.Conformance;
using BuildingBlocks.Sagas.Sqlite.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BuildingBlocks.Sagas.Sqlite.Tests.Storage;

/// <summary>How values are stored and read back: UTC ticks, text as given, rows damaged outside the library reported, not hidden.</summary>
public sealed class SqliteSagaStoreRowTests : SqliteSagaStoreTests
{
    [Fact]
    public async Task TimesGivenWithAnOffset_AreStoredAsUtcTicks_AndReadBackInUtc()
    {
        SagaStoreHarness s = Harness();
        DateTimeOffset createdAt = SagaStoreHarness.Start.ToOffset(TimeSpan.FromHours(5.5)).AddTicks(1);
        DateTimeOffset updatedAt = SagaStoreHarness.Start.ToOffset(TimeSpan.FromHours(-8)).AddTicks(2);
        DateTimeOffset at = SagaStoreHarness.Start.ToOffset(TimeSpan.FromHours(14)).AddTicks(3);
        await s.CreateAsync(s.Saga("order-1", createdAt: createdAt, updatedAt: updatedAt), [s.Event(1, SagaEventKind.Started, at: at, duration: TimeSpan.FromTicks(7))]);

        SagaRecord stored = await s.GetAsync("order-1");
        SagaEvent line = Assert.Single(await s.EventsAsync("order-1"));

        Assert.Equal((createdAt.UtcTicks, TimeSpan.Zero), (stored.CreatedAt.UtcTicks, stored.CreatedAt.Offset));
        Assert.Equal((updatedAt.UtcTicks, TimeSpan.Zero), (stored.UpdatedAt.UtcTicks, stored.UpdatedAt.Offset));
        Assert.Equal((at.UtcTicks, TimeSpan.Zero), (line.At.UtcTicks, line.At.Offset));
        Assert.Equal(TimeSpan.FromTicks(7), line.Duration);
        SqliteConnection connection = Files.OpenConnection();
        Assert.Equal(createdAt.UtcTicks, SqliteSagaTestFiles.Scalar(connection, "SELECT created_at FROM sagas WHERE id = 'order-1';"));
    }

    [Fact]
    public async Task TextWithAnEmbeddedNul_RoundTrips()
    {
        SagaStoreHarness s = Harness();
        await s.CreateAsync(s.Saga("order-1", data: "before\0after", progress: "\0"));

        SagaRecord stored = await s.GetAsync("order-1");

        Assert.Equal("before\0after", stored.Data);
        Assert.Equal("\0", stored.Progress);
    }

    [Fact]
    public async Task RequiredTextThatIsNull_IsRefusedBeforeAnythingIsWritten_NamingTheField()
    {
        SagaStoreHarness s = Harness();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");

        ArgumentException create = await Assert.ThrowsAsync<ArgumentException>(async () => await s.Store.CreateAsync(s.Saga("order-2") with { Data = null! }, [], Ct));
        ArgumentException checkpoint = await Assert.ThrowsAsync<ArgumentException>(async () => await s.Store.CheckpointAsync(s.Checkpoint(leased) with { Progress = null! }, Ct));
        ArgumentException line = await Assert.ThrowsAsync<ArgumentException>(async () => await s.Store.CheckpointAsync(s.Checkpoint(leased, events: [null!]), Ct));

        Assert.Contains("SagaRecord.Data", create.Message, StringComparison.Ordinal);
        Assert.Contains("SagaCheckpoint.Progress", checkpoint.Message, StringComparison.Ordinal);
        Assert.Contains("History line 0 is null", line.Message, StringComparison.Ordinal);
        Assert.Null(await s.Store.GetAsync("order-2", Ct));
        await s.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task ACheckpointRepeatingASequenceNumber_IsRolledBackWhole()
    {
        SagaStoreHarness s = Harness();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        StoredSaga before = await s.SnapshotAsync("order-1");

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(
            async () => await s.Store.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Completed, data: "half", events: [s.Event(2), s.Event(1)], releaseLease: true), Ct));

        Assert.Contains("saga_events", error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was written", error.Message, StringComparison.Ordinal);
        await s.AssertUnchangedAsync(before);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, events: [s.Event(2)])));
    }

    [Fact]
    public async Task ARowWithAnUnknownStatus_IsReportedNamingTableSagaAndColumn_AndAcquireSkipsIt()
    {
        SagaStoreHarness s = Harness();
        await s.CreateManyAsync(["order-1", "order-2"]);
        SqliteSagaTestFiles.Execute(Files.OpenConnection(), "UPDATE sagas SET status = 42 WHERE id = 'order-1';");

        InvalidOperationException get = await Assert.ThrowsAsync<InvalidOperationException>(async () => await s.Store.GetAsync("order-1", Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await s.QueryAsync(new SagaQuery()));

        Assert.Contains("table 'sagas'", get.Message, StringComparison.Ordinal);
        Assert.Contains("saga 'order-1'", get.Message, StringComparison.Ordinal);
        Assert.Contains("column 'status' 42 is not a SagaStatus value", get.Message, StringComparison.Ordinal);
        Assert.Equal("order-2", (await s.AcquireOneAsync()).Id);
        Assert.Equal("order-2", Assert.Single(await s.QueryAsync(new SagaQuery { AfterId = "order-1" })).Id);
    }

    [Fact]
    public async Task AHistoryLineWithAnUnknownKind_IsReportedNamingTheLine()
    {
        SagaStoreHarness s = Harness();
        await s.CreateAsync("order-1");
        SqliteSagaTestFiles.Execute(Files.OpenConnection(), "UPDATE saga_events SET kind = 99 WHERE saga_id = 'order-1';");

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await s.EventsAsync("order-1"));

        Assert.Contains("table 'saga_events'", error.Message, StringComparison.Ordinal);
        Assert.Contains("99 (line 1) is not a SagaEventKind value", error.Message, StringComparison.Ordinal);
        Assert.Contains(Files.PathOf(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASagaWhoseDataRowWasDeleted_IsReported_AndItsCheckpointIsRolledBack()
    {
        SagaStoreHarness s = Harness();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        SqliteSagaTestFiles.Execute(Files.OpenConnection(), "DELETE FROM saga_data;");

        InvalidOperationException get = await Assert.ThrowsAsync<InvalidOperationException>(async () => await s.Store.GetAsync("order-1", Ct));
        InvalidOperationException checkpoint = await Assert.ThrowsAsync<InvalidOperationException>(async () => await s.Store.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Completed, events: [s.Event(2)]), Ct));

        Assert.Contains("no saga_data row", get.Message, StringComparison.Ordinal);
        Assert.Contains("rolled back", checkpoint.Message, StringComparison.Ordinal);
        SqliteConnection connection = Files.OpenConnection();
        Assert.Equal((long)SagaStatus.Running, SqliteSagaTestFiles.Scalar(connection, "SELECT status FROM sagas WHERE id = 'order-1';"));
        Assert.Equal(1L, SqliteSagaTestFiles.Scalar(connection, "SELECT count(*) FROM saga_events WHERE saga_id = 'order-1';"));
    }

    [Fact]
    public async Task QueryWithAZeroOrNegativeLimit_ReturnsNothing_LikeTheReferenceStore()
    {
        SagaStoreHarness s = Harness();
        await s.CreateAsync("order-1");

        Assert.Empty(await s.QueryAsync(new SagaQuery { Limit = 0 }));
        Assert.Empty(await s.QueryAsync(new SagaQuery { Limit = -1 }));
    }

    [Fact]
    public async Task IdsOrderedByUtf8Bytes_DifferFromUtf16OrdinalOnlyAboveTheSurrogates()
    {
        // U+FF01 sorts before U+1F600 by code point (UTF-8, SQLite BINARY) but after it by UTF-16 code unit (ordinal):
        // the one documented difference from the reference store.
        SagaStoreHarness s = Harness();
        await s.CreateAsync("\uFF01");
        await s.CreateAsync("😀");

        Assert.Equal(["\uFF01", "😀"], (await s.QueryAsync(new SagaQuery())).Select(r => r.Id));
        Assert.Equal(["😀", "\uFF01"], new[] { "\uFF01", "😀" }.Order(StringComparer.Ordinal));
    }
}
