using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Client;

public sealed class SagaClientTests
{
    public sealed class OtherData
    {
        public int Number { get; set; }
    }

    private static Task<SagaTestHost> HostAsync(Action<SagaTestHostBuilder>? more = null) =>
        SagaTestHost.StartAsync(b =>
        {
            b.Saga("order", saga =>
            {
                saga.Step("reserve").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
                saga.Parallel("pay", p =>
                {
                    p.Step("card").Execute(b.Ledger.Fails<TestData>(ctx => ctx.Data.Value == "decline" ? new PermanentStepFailureException("declined") : null))
                        .Compensate(b.Ledger.Ok<TestData>());
                    p.Step("points").Execute(b.Ledger.Ok<TestData>());
                });
                saga.Step("ship").Execute(b.Ledger.Ok<TestData>());
            });
            more?.Invoke(b);
        });

    [Fact]
    public async Task Start_WithTheSameSagaId_ReturnsTheIdAndStartsNothing()
    {
        await using SagaTestHost host = await HostAsync();
        string id = await host.StartSagaAsync(new TestData { Value = "first" }, "order-1");
        await host.WaitForEndAsync(id);

        string again = await host.StartSagaAsync(new TestData { Value = "second" }, "order-1");

        Assert.Equal("order-1", again);
        await Eventually.QuietPeriodAsync();
        Assert.Equal(["card", "points", "reserve", "ship"], host.Ledger.Forward(id).Order(StringComparer.Ordinal));
        Assert.Equal("first", (await host.Client.GetDataAsync<TestData>(id, SagaTestHost.Ct))!.Value);
        Assert.Single(await host.HistoryAsync(id), e => e.Kind == SagaEventKind.Started);
    }

    [Fact]
    public async Task Start_WithTheSameSagaIdWhileRunning_StartsNothing()
    {
        Gate gate = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga => saga.Step("a").Execute(async (ctx, ct) =>
        {
            b.Ledger.Record(ctx);
            await gate.WaitAsync(ct);
        })));
        string id = await host.StartSagaAsync(sagaId: "order-1");
        await gate.EnteredAsync();

        Assert.Equal("order-1", await host.StartSagaAsync(sagaId: "order-1"));
        gate.Release();
        await host.WaitForEndAsync(id);
        Assert.Single(host.Ledger.Forward(id));
    }

    [Fact]
    public async Task Start_WithoutAnId_GivesEachSagaANewOne()
    {
        await using SagaTestHost host = await HostAsync();

        string a = await host.StartSagaAsync();
        string b = await host.StartSagaAsync();

        Assert.NotEqual(a, b);
        Assert.True(Guid.TryParse(a, out Guid guid));
        Assert.Equal(7, guid.Version);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("line\nbreak")]
    public async Task Start_WithABadId_IsRefused(string id)
    {
        await using SagaTestHost host = await HostAsync();

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () => await host.StartSagaAsync(sagaId: id));

        Assert.Contains("SagaStartOptions.SagaId", error.Message, StringComparison.Ordinal);
        Assert.Empty(await host.Store.QueryAsync(new SagaQuery(), SagaTestHost.Ct));
    }

    [Fact]
    public async Task Start_WithAnIdOver200Characters_IsRefused_And200Are_Accepted()
    {
        await using SagaTestHost host = await HostAsync();

        await Assert.ThrowsAsync<ArgumentException>(async () => await host.StartSagaAsync(sagaId: new string('i', 201)));
        string id = await host.StartSagaAsync(sagaId: new string('i', 200));

        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    [Fact]
    public async Task Start_OfADataTypeNoSagaTakes_ThrowsSagaNotFound()
    {
        await using SagaTestHost host = await HostAsync();

        SagaNotFoundException error = await Assert.ThrowsAsync<SagaNotFoundException>(async () =>
            await host.Client.StartAsync(new OtherData(), cancellationToken: SagaTestHost.Ct));

        Assert.Contains(typeof(OtherData).FullName!, error.Message, StringComparison.Ordinal);
        Assert.Contains("'order'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_OfAnUnknownSagaName_ThrowsSagaNotFound()
    {
        await using SagaTestHost host = await HostAsync();

        await Assert.ThrowsAsync<SagaNotFoundException>(async () => await host.StartSagaAsync(sagaName: "invoice"));
    }

    [Fact]
    public async Task Start_WhenSeveralSagasTakeTheDataType_AsksForTheName_AndRunsTheNamedOne()
    {
        await using SagaTestHost host = await HostAsync(b => b.Saga("refund", saga => saga.Step("refund").Execute(b.Ledger.Ok<TestData>())));

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.StartSagaAsync());
        Assert.Contains("SagaStartOptions.SagaName", error.Message, StringComparison.Ordinal);

        string id = await host.StartSagaAsync(sagaName: "refund");
        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal("refund", end.Name);
        Assert.Equal(["refund"], host.Ledger.Forward(id));
    }

    [Fact]
    public async Task Start_WithADataTypeTheNamedSagaDoesNotTake_IsRefused()
    {
        await using SagaTestHost host = await HostAsync();

        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Client.StartAsync(new OtherData(), new SagaStartOptions { SagaName = "order" }, SagaTestHost.Ct));
    }

    [Fact]
    public async Task Start_WithoutACoordinator_StoresTheSagaUnleased_ForAnotherProcess()
    {
        await using SagaTestHost host = await HostAsync(b => b.Options(o => o.RunCoordinator = false));

        string id = await host.StartSagaAsync();

        SagaRecord record = (await host.Store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, record.Status);
        Assert.Null(record.LeaseOwner);
        Assert.Equal(0, record.LeaseToken);
        await Eventually.QuietPeriodAsync();
        Assert.Empty(host.Ledger.Entries(id));
    }

    [Fact]
    public async Task Get_ShowsTheStepsInDefinitionOrder_WithStatusesAndAttempts()
    {
        await using SagaTestHost host = await HostAsync();
        string id = await host.StartSagaAsync(new TestData { Value = "decline" });

        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(id, end.Id);
        Assert.Equal("order", end.Name);
        Assert.Equal(1, end.Version);
        Assert.Equal(SagaStatus.Compensated, end.Status);
        Assert.True(end.IsFinished);
        Assert.False(end.IsParked);
        Assert.Equal(
            [
                new SagaStepSnapshot("reserve", SagaStepStatus.Compensated, 0, 0),
                new SagaStepSnapshot("card", SagaStepStatus.Failed, 1, 0),
                new SagaStepSnapshot("points", SagaStepStatus.Completed, 0, 0),
                new SagaStepSnapshot("ship", SagaStepStatus.Pending, 0, 0),
            ],
            end.Steps);
        Assert.True(end.UpdatedAt >= end.CreatedAt);
        Assert.Contains("\"value\":\"decline\"", end.DataJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_OfAnUnknownId_IsNull()
    {
        await using SagaTestHost host = await HostAsync();

        Assert.Null(await host.Client.GetAsync("nope", SagaTestHost.Ct));
        Assert.Null(await host.Client.GetDataAsync<TestData>("nope", SagaTestHost.Ct));
        Assert.Empty(await host.Client.GetHistoryAsync("nope", SagaTestHost.Ct));
    }

    [Fact]
    public async Task GetData_ReadsTheSavedDataTyped()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga => saga.Step("count").Execute((ctx, _) =>
        {
            ctx.Data.Counter = 41 + 1;
            return Task.CompletedTask;
        })));
        string id = await host.StartSagaAsync(new TestData { Value = "v", Notes = ["n"] });
        await host.WaitForEndAsync(id);

        TestData data = (await host.Client.GetDataAsync<TestData>(id, SagaTestHost.Ct))!;

        Assert.Equal(42, data.Counter);
        Assert.Equal("v", data.Value);
        Assert.Equal(["n"], data.Notes);
    }

    [Fact]
    public async Task List_FiltersByStatusAndName_AndPagesInIdOrder()
    {
        await using SagaTestHost host = await HostAsync(b => b.Saga("refund", saga => saga.Step("refund").Execute(b.Ledger.Ok<TestData>())));
        foreach ((string id, string value) in new[] { ("c", "ok"), ("a", "decline"), ("e", "ok"), ("b", "ok"), ("d", "decline") })
        {
            await host.StartSagaAsync(new TestData { Value = value }, id, "order");
        }

        await host.StartSagaAsync(sagaId: "f", sagaName: "refund");
        foreach (string id in new[] { "a", "b", "c", "d", "e", "f" })
        {
            await host.WaitForEndAsync(id);
        }

        IReadOnlyList<SagaSnapshot> page1 = await host.Client.ListAsync(new SagaQuery { Limit = 2 }, SagaTestHost.Ct);
        IReadOnlyList<SagaSnapshot> page2 = await host.Client.ListAsync(new SagaQuery { Limit = 2, AfterId = page1[^1].Id }, SagaTestHost.Ct);
        IReadOnlyList<SagaSnapshot> page3 = await host.Client.ListAsync(new SagaQuery { Limit = 2, AfterId = page2[^1].Id }, SagaTestHost.Ct);
        IReadOnlyList<SagaSnapshot> page4 = await host.Client.ListAsync(new SagaQuery { Limit = 2, AfterId = page3[^1].Id }, SagaTestHost.Ct);
        Assert.Equal(["a", "b", "c", "d", "e", "f"], page1.Concat(page2).Concat(page3).Select(s => s.Id));
        Assert.Empty(page4);

        IReadOnlyList<SagaSnapshot> compensated = await host.Client.ListAsync(new SagaQuery { Statuses = [SagaStatus.Compensated] }, SagaTestHost.Ct);
        Assert.Equal(["a", "d"], compensated.Select(s => s.Id));
        IReadOnlyList<SagaSnapshot> refunds = await host.Client.ListAsync(new SagaQuery { Name = "refund" }, SagaTestHost.Ct);
        Assert.Equal(["f"], refunds.Select(s => s.Id));
        IReadOnlyList<SagaSnapshot> completedOrders = await host.Client.ListAsync(new SagaQuery { Name = "order", Statuses = [SagaStatus.Completed] }, SagaTestHost.Ct);
        Assert.Equal(["b", "c", "e"], completedOrders.Select(s => s.Id));
        Assert.Equal(["refund"], Assert.Single(refunds).Steps.Select(s => s.Name));

        IReadOnlyDictionary<SagaStatus, long> counts = await host.Operator.CountByStatusAsync(SagaTestHost.Ct);
        Assert.Equal(4, counts[SagaStatus.Completed]);
        Assert.Equal(2, counts[SagaStatus.Compensated]);
        Assert.False(counts.ContainsKey(SagaStatus.Running));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task List_WithALimitOutside1To1000_IsRefused(int limit)
    {
        await using SagaTestHost host = await HostAsync();

        await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(async () => await host.Client.ListAsync(new SagaQuery { Limit = limit }, SagaTestHost.Ct));
    }

    [Fact]
    public async Task WaitForEnd_ReturnsOnceTheSagaFinishes()
    {
        Gate gate = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga => saga.Step("a").Execute((_, ct) => gate.WaitAsync(ct))));
        string id = await host.StartSagaAsync();
        await gate.EnteredAsync();

        Task<SagaSnapshot> waiting = host.Client.WaitForEndAsync(id, SagaTestHost.Ct).AsTask();
        await Eventually.QuietPeriodAsync();
        Assert.False(waiting.IsCompleted);
        gate.Release();

        SagaSnapshot end = await waiting.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        Assert.Equal(SagaStatus.Completed, end.Status);
    }

    [Fact]
    public async Task WaitForEnd_ReturnsWhenTheSagaParks()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            saga.Step("a").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.FailsForGood<TestData>());
            saga.Step("b").Execute(b.Ledger.FailsForGood<TestData>());
        }));
        string id = await host.StartSagaAsync();

        SagaSnapshot end = await host.Client.WaitForEndAsync(id, SagaTestHost.Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);

        Assert.Equal(SagaStatus.CompensationFailed, end.Status);
        Assert.True(end.IsParked);
    }

    [Fact]
    public async Task WaitForEnd_OfASagaRunElsewhere_ReturnsWhenItEnds()
    {
        InMemorySagaStore store = new();
        await using SagaTestHost client = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Options(o => o.RunCoordinator = false);
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        });
        string id = await client.StartSagaAsync();
        Task<SagaSnapshot> waiting = client.Client.WaitForEndAsync(id, SagaTestHost.Ct).AsTask();

        await using SagaTestHost worker = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        });

        Assert.Equal(SagaStatus.Completed, (await waiting.WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct)).Status);
    }

    [Fact]
    public async Task WaitForEnd_OfAnUnknownId_ThrowsSagaNotFound_AndHonoursCancellation()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Options(o => o.RunCoordinator = false);
            b.Saga("order", saga => saga.Step("a").Execute(b.Ledger.Ok<TestData>()));
        });
        await Assert.ThrowsAsync<SagaNotFoundException>(async () => await host.Client.WaitForEndAsync("nope", SagaTestHost.Ct));

        string id = await host.StartSagaAsync();
        using CancellationTokenSource cancel = new(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await host.Client.WaitForEndAsync(id, cancel.Token));
    }

    [Fact]
    public async Task History_HasTheKindStepAttemptDurationAndDetailOfEachOutcome()
    {
        await using SagaTestHost host = await HostAsync();
        string id = await host.StartSagaAsync(new TestData { Value = "decline" });
        await host.WaitForEndAsync(id);

        IReadOnlyList<SagaEvent> history = await host.Client.GetHistoryAsync(id, SagaTestHost.Ct);

        SagaEvent failed = Assert.Single(history, e => e.Kind == SagaEventKind.StepFailed);
        Assert.Equal("card", failed.Step);
        Assert.Equal(1, failed.Attempt);
        Assert.Equal("PermanentStepFailureException: declined", failed.Detail);
        Assert.NotNull(failed.Duration);
        SagaEvent started = history[0];
        Assert.Equal(SagaEventKind.Started, started.Kind);
        Assert.Null(started.Step);
        Assert.All(history.Skip(1), e => Assert.True(e.At >= started.At));
        Assert.Equal(SagaEventKind.Compensated, history[^1].Kind);
    }
}
