using System.Text.Json.Serialization;
using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Data;

public sealed class SagaDataTests
{
    public sealed class ThrowingData
    {
        public string? Name { get; set; }

        // A computed property that breaks on incomplete data, as real ones do.
        public int NameLength => Name!.Length;
    }

    public sealed class CyclicData
    {
        public string Name { get; set; } = "";

        public CyclicData? Parent { get; set; }
    }

    public sealed class NoUsableConstructorData
    {
        public NoUsableConstructorData(string code)
        {
            Value = code;
        }

        public string Value { get; }
    }

    public sealed class ToggleData
    {
        public bool Broken { get; set; }

        public int Check => Broken ? throw new InvalidCastException("broken on purpose") : 1;

        public List<string> Notes { get; set; } = [];
    }

    public sealed class CycleLaterData
    {
        public List<string> Notes { get; set; } = [];

        public CycleLaterData? Self { get; set; }
    }

    private static async Task AssertNothingStoredAsync(SagaTestHost host)
    {
        Assert.Empty(await host.Store.QueryAsync(new SagaQuery(), SagaTestHost.Ct));
        Assert.Empty(await host.Operator.CountByStatusAsync(SagaTestHost.Ct));
    }

    [Fact]
    public async Task StartData_WithAPropertyThatThrows_IsRefusedWithSagaDataException_AndNothingIsStored()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga<ThrowingData>("throwing", 1, saga => saga.Step("a").Execute(b.Ledger.Ok<ThrowingData>())));

        SagaDataException error = await Assert.ThrowsAsync<SagaDataException>(async () =>
            await host.Client.StartAsync(new ThrowingData(), cancellationToken: SagaTestHost.Ct));

        Assert.Contains(nameof(ThrowingData), error.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(host);
    }

    [Fact]
    public async Task StartData_WithACycle_IsRefusedWithSagaDataException_AndNothingIsStored()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga<CyclicData>("cyclic", 1, saga => saga.Step("a").Execute(b.Ledger.Ok<CyclicData>())));
        CyclicData data = new() { Name = "loop" };
        data.Parent = data;

        SagaDataException error = await Assert.ThrowsAsync<SagaDataException>(async () =>
            await host.Client.StartAsync(data, cancellationToken: SagaTestHost.Ct));

        Assert.StartsWith($"Saga data {nameof(CyclicData)} cannot be serialized to JSON", error.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(host);
    }

    [Fact]
    public async Task StartData_ThatDoesNotReadBack_IsRefusedWithSagaDataException_AndNothingIsStored()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga<NoUsableConstructorData>("unreadable", 1, saga => saga.Step("a").Execute(b.Ledger.Ok<NoUsableConstructorData>())));

        SagaDataException error = await Assert.ThrowsAsync<SagaDataException>(async () =>
            await host.Client.StartAsync(new NoUsableConstructorData("x"), cancellationToken: SagaTestHost.Ct));

        Assert.Contains(nameof(NoUsableConstructorData), error.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(host);
    }

    [Fact]
    public async Task StartData_LargerThanMaxDataBytes_IsRefused_NamingTheOption_AndNothingIsStored()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.MaxDataBytes = 1000)
            .Saga("big", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>())));

        SagaDataException error = await Assert.ThrowsAsync<SagaDataException>(async () =>
            await host.StartSagaAsync(new TestData { Blob = new string('x', 1000) }));

        Assert.Contains("more than SagaOptions.MaxDataBytes (1000)", error.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(host);
    }

    [Fact]
    public async Task StartData_JustUnderMaxDataBytes_IsAccepted()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.MaxDataBytes = 1000)
            .Saga("big", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>())));

        string id = await host.StartSagaAsync(new TestData { Blob = new string('x', 900) });

        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    [Fact]
    public async Task DataGrowingPastMaxDataBytesMidSaga_SuspendsTheSaga_WithItsLastSavedDataAndProgress()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.MaxDataBytes = 1000)
            .Saga("grow", saga =>
            {
                saga.Step("reserve").Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    ctx.Data.Note("reserved");
                    return Task.CompletedTask;
                });
                saga.Step("attach").Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    ctx.Data.Note("attached");
                    ctx.Data.Blob = new string('x', 2000);
                    return Task.CompletedTask;
                });
                saga.Step("ship").Execute(b.Ledger.Ok<TestData>());
            }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.Contains("SagaOptions.MaxDataBytes (1000)", end.Error, StringComparison.Ordinal);
        Assert.Null(end.LeaseOwner);
        TestData saved = (await host.Client.GetDataAsync<TestData>(id, SagaTestHost.Ct))!;
        Assert.Equal(["reserved"], saved.Notes);
        Assert.Null(saved.Blob);
        Assert.Equal([SagaStepStatus.Completed, SagaStepStatus.Pending, SagaStepStatus.Pending], end.Steps.Select(s => s.Status));
        Assert.Equal(["Started", "StepCompleted reserve#1", "Suspended"], await host.HistoryLinesAsync(id));
        IReadOnlyList<SagaEvent> history = await host.HistoryAsync(id);
        Assert.Equal([1L, 2, 3], history.Select(e => e.Sequence));
        Assert.Equal(["reserve", "attach"], host.Ledger.Forward(id));
    }

    [Fact]
    public async Task DataThatStopsSerializingMidSaga_WithACycle_SuspendsTheSaga_WithItsLastSavedData()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga<CycleLaterData>("cycle-later", 1, saga =>
        {
            saga.Step("reserve").Execute((ctx, _) =>
            {
                b.Ledger.Record(ctx);
                ctx.Data.Notes.Add("reserved");
                return Task.CompletedTask;
            });
            saga.Step("link").Execute((ctx, _) =>
            {
                b.Ledger.Record(ctx);
                ctx.Data.Notes.Add("linked");
                ctx.Data.Self = ctx.Data;
                return Task.CompletedTask;
            });
        }));

        string id = await host.Client.StartAsync(new CycleLaterData(), cancellationToken: SagaTestHost.Ct);
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.StartsWith($"Saga data {nameof(CycleLaterData)} cannot be serialized to JSON", end.Error, StringComparison.Ordinal);
        Assert.Equal(["reserved"], (await host.Client.GetDataAsync<CycleLaterData>(id, SagaTestHost.Ct))!.Notes);
        Assert.Equal(["reserve", "link"], host.Ledger.Forward(id));
    }

    [Fact]
    public async Task DataWhosePropertyStartsThrowingMidSaga_SuspendsTheSaga_InsteadOfRunningTheStepAgainAndAgain()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga<ToggleData>("toggle", 1, saga =>
        {
            saga.Step("reserve").Execute((ctx, _) =>
            {
                b.Ledger.Record(ctx);
                ctx.Data.Notes.Add("reserved");
                return Task.CompletedTask;
            });
            saga.Step("break").Execute((ctx, _) =>
            {
                b.Ledger.Record(ctx);
                ctx.Data.Broken = true;
                return Task.CompletedTask;
            });
        }));

        string id = await host.Client.StartAsync(new ToggleData(), cancellationToken: SagaTestHost.Ct);
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.Equal(["reserved"], (await host.Client.GetDataAsync<ToggleData>(id, SagaTestHost.Ct))!.Notes);
        Assert.Equal(["reserve", "break"], host.Ledger.Forward(id));
    }

    [Fact]
    public async Task StoredDataThatNoLongerReads_SuspendsTheSaga_KeepingTheStoredText()
    {
        InMemorySagaStore store = new();
        string id;
        await using (SagaTestHost starter = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Options(o => o.RunCoordinator = false);
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        }))
        {
            id = await starter.StartSagaAsync();
        }

        // Someone edits the row by hand (or a data type changed incompatibly): the counter is no longer a number.
        IReadOnlyList<SagaRecord> taken = await store.AcquireAsync("editor", ["order"], 1, TimeSpan.FromMinutes(1), SagaTestHost.Ct);
        SagaRecord record = Assert.Single(taken);
        string broken = record.Data.Replace("\"counter\":0", "\"counter\":\"many\"", StringComparison.Ordinal);
        Assert.NotEqual(record.Data, broken);
        Assert.True(await store.CheckpointAsync(
            new SagaCheckpoint
            {
                SagaId = id,
                LeaseOwner = "editor",
                LeaseToken = record.LeaseToken,
                Status = SagaStatus.Running,
                Data = broken,
                Progress = record.Progress,
                UpdatedAt = record.UpdatedAt,
                Events = [],
                ReleaseLease = true,
            },
            SagaTestHost.Ct));

        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        });
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.StartsWith("Saga data TestData cannot be read back from JSON", end.Error, StringComparison.Ordinal);
        Assert.Equal(broken, end.DataJson);
        Assert.Empty(host.Ledger.Entries(id));
    }

    [Fact]
    public async Task StoredProgressThatDoesNotRead_SuspendsTheSaga_KeepingTheStoredText()
    {
        InMemorySagaStore store = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        });
        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        Assert.True(await store.CreateAsync(
            new SagaRecord
            {
                Id = "garbled",
                Name = "order",
                Version = 1,
                Status = SagaStatus.Running,
                Data = "{}",
                Progress = "not json",
                CreatedAt = now,
                UpdatedAt = now,
            },
            [new SagaEvent { Sequence = 1, Kind = SagaEventKind.Started, At = now }],
            SagaTestHost.Ct));

        SagaSnapshot end = await host.WaitForEndAsync("garbled");

        Assert.Equal(SagaStatus.Suspended, end.Status);
        Assert.StartsWith("its progress record cannot be read", end.Error, StringComparison.Ordinal);
        Assert.Equal("not json", (await store.GetAsync("garbled", SagaTestHost.Ct))!.Progress);
        Assert.Equal(["Started", "Suspended"], await host.HistoryLinesAsync("garbled"));
        Assert.Empty(end.Steps);
    }

    [Fact]
    public async Task JsonOptions_AreUsedForSagaData()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.JsonOptions = new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower })
            .Saga("snake", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>())));

        string id = await host.StartSagaAsync(new TestData { Blob = "b" });
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Contains("\"blob\":\"b\"", end.DataJson, StringComparison.Ordinal);
        Assert.Contains("\"notes\":[]", end.DataJson, StringComparison.Ordinal);
        Assert.Equal("b", (await host.Client.GetDataAsync<TestData>(id, SagaTestHost.Ct))!.Blob);
    }

    [Fact]
    public async Task JsonOptions_WithoutAContractForTheData_RefuseTheStart_SayingHowToFixIt()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.JsonOptions = new System.Text.Json.JsonSerializerOptions { TypeInfoResolver = OtherTypesContext.Default })
            .Saga("aot", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>())));

        SagaDataException error = await Assert.ThrowsAsync<SagaDataException>(async () => await host.StartSagaAsync());

        Assert.Contains("SagaOptions.JsonOptions", error.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(host);
    }
}

[JsonSerializable(typeof(SagaDataTests.CyclicData))]
internal sealed partial class OtherTypesContext : JsonSerializerContext;
