using BuildingBlocks.Sagas.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Sagas.Tests.Execution;

public sealed class StepExecutionTests
{
    [Fact]
    public async Task Saga_RunsItsStepsInOrder_PassingTheDataOn_AndCompletes()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("order", saga =>
        {
            foreach (string step in new[] { "reserve", "charge", "ship" })
            {
                saga.Step(step).Execute((ctx, _) =>
                {
                    b.Ledger.Record(ctx);
                    ctx.Data.Note($"{step} saw {string.Join("+", ctx.Data.Notes)}");
                    return Task.CompletedTask;
                });
            }
        }));

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Null(end.Error);
        Assert.Equal(["reserve", "charge", "ship"], host.Ledger.Forward(id));
        TestData data = (await host.Client.GetDataAsync<TestData>(id, SagaTestHost.Ct))!;
        Assert.Equal(["reserve saw ", "charge saw reserve saw ", "ship saw reserve saw +charge saw reserve saw "], data.Notes);
        Assert.Equal(
            ["Started", "StepCompleted reserve#1", "StepCompleted charge#1", "StepCompleted ship#1", "Completed"],
            await host.HistoryLinesAsync(id));
        Assert.All(end.Steps, s => Assert.Equal(SagaStepStatus.Completed, s.Status));
        Assert.Null(end.LeaseOwner);
    }

    [Fact]
    public async Task StepContext_CarriesTheSagaStepDirectionAttemptAndIdempotencyKey()
    {
        List<(string SagaId, string SagaName, string Step, SagaDirection Direction, int Attempt, string Key)> seen = [];
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("context", saga =>
        {
            saga.Step("only")
                .Execute((ctx, _) =>
                {
                    lock (seen)
                    {
                        seen.Add((ctx.SagaId, ctx.SagaName, ctx.StepName, ctx.Direction, ctx.Attempt, ctx.IdempotencyKey));
                    }

                    return Task.CompletedTask;
                });
        }));

        string id = await host.StartSagaAsync(sagaId: "order-42");
        await host.WaitForEndAsync(id);

        (string sagaId, string sagaName, string step, SagaDirection direction, int attempt, string key) = Assert.Single(seen);
        Assert.Equal("order-42", sagaId);
        Assert.Equal("context", sagaName);
        Assert.Equal("only", step);
        Assert.Equal(SagaDirection.Forward, direction);
        Assert.Equal(1, attempt);
        Assert.Equal("order-42/only/forward", key);
        Assert.Equal(key, SagaIdempotencyKey.For("order-42", "only", SagaDirection.Forward));
        Assert.Equal("order-42/only/compensation", SagaIdempotencyKey.For("order-42", "only", SagaDirection.Compensation));
    }

    [Fact]
    public async Task DataChangedByAStep_IsSavedBeforeTheNextStepRuns()
    {
        Gate second = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("save", saga =>
        {
            saga.Step("first").Execute((ctx, _) =>
            {
                ctx.Data.Value = "changed by first";
                return Task.CompletedTask;
            });
            saga.Step("second").Execute((ctx, ct) => second.WaitAsync(ct));
        }));

        string id = await host.StartSagaAsync(new TestData { Value = "initial" });
        await second.EnteredAsync();

        SagaSnapshot during = (await host.Client.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, during.Status);
        Assert.Contains("changed by first", during.DataJson, StringComparison.Ordinal);
        Assert.Equal([SagaStepStatus.Completed, SagaStepStatus.Pending], during.Steps.Select(s => s.Status));
        Assert.Equal(host.CoordinatorId, during.LeaseOwner);
        second.Release();
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    public sealed class ScopedProbe : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task StepServices_AreAFreshScopePerAttempt_DisposedWhenTheAttemptEnds()
    {
        List<ScopedProbe> probes = [];
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Services(s => s.AddScoped<ScopedProbe>())
            .Saga("scoped", saga =>
            {
                saga.Step("flaky")
                    .Execute((ctx, _) =>
                    {
                        ScopedProbe probe = ctx.Services.GetRequiredService<ScopedProbe>();
                        Assert.Same(probe, ctx.Services.GetRequiredService<ScopedProbe>());
                        lock (probes)
                        {
                            probes.Add(probe);
                        }

                        return ctx.Attempt == 1 ? Task.FromException(new InvalidOperationException("first attempt")) : Task.CompletedTask;
                    })
                    .WithRetry(2, r => r.InitialDelay = TimeSpan.Zero);
            }));

        string id = await host.StartSagaAsync();
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);

        Assert.Equal(2, probes.Count);
        Assert.NotSame(probes[0], probes[1]);
        Assert.All(probes, p => Assert.True(p.Disposed));
    }

    public sealed class StockService(Ledger ledger)
    {
        public Ledger Ledger { get; } = ledger;
    }

    public sealed class InjectedSaga(StockService stock) : SagaDefinition<TestData>
    {
        protected override void Define(SagaBuilder<TestData> saga) =>
            saga.Step("reserve").Execute(stock.Ledger.Ok<TestData>());
    }

    [Fact]
    public async Task Definition_TakesServicesThroughItsConstructor_AndDefaultsToItsTypeNameAndVersion1()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Services(s => s.AddSingleton<StockService>())
            .Definition<InjectedSaga, TestData>());

        string id = await host.StartSagaAsync();
        SagaSnapshot end = await host.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Completed, end.Status);
        Assert.Equal(nameof(InjectedSaga), end.Name);
        Assert.Equal(1, end.Version);
        Assert.Equal(["reserve"], host.Ledger.Forward(id));
    }

    [Fact]
    public async Task History_IsNumberedOneToN_WithTheLeaseTokenOfTheWriter()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("numbered", saga =>
        {
            saga.Step("a").Execute(b.Ledger.Ok<TestData>()).Compensate(b.Ledger.Ok<TestData>());
            saga.Step("b").Execute(b.Ledger.Fails<TestData>(ctx => ctx.Attempt < 3 ? new TimeoutException("slow") : null))
                .WithRetry(3, r => r.InitialDelay = TimeSpan.Zero);
            saga.Step("c").Execute(b.Ledger.FailsForGood<TestData>());
        }));

        string id = await host.StartSagaAsync();
        await host.WaitForEndAsync(id);

        IReadOnlyList<SagaEvent> history = await host.HistoryAsync(id);
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(e => e.Sequence));
        // Every outcome is written under the one lease this run held (the Started line has it too, or 0 when the start
        // raced a poll for the free slot and the saga was acquired right after).
        Assert.All(history.Skip(1), e => Assert.Equal(1, e.LeaseToken));
        Assert.InRange(history[0].LeaseToken, 0, 1);
        Assert.Equal(
            ["Started", "StepCompleted a#1", "StepAttemptFailed b#1", "StepAttemptFailed b#2", "StepCompleted b#3", "StepFailed c#1", "CompensationCompleted a#1", "Compensated"],
            await host.HistoryLinesAsync(id));
    }

    [Fact]
    public async Task MaxConcurrentSagas_StartedBeyondIt_WaitInTheStore_AndRunWhenASlotFrees()
    {
        Gate first = new();
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Options(o => o.MaxConcurrentSagas = 1)
            .Saga("one-at-a-time", saga => saga.Step("work").Execute(async (ctx, ct) =>
            {
                b.Ledger.Record(ctx);
                if (ctx.Data.Value == "first")
                {
                    await first.WaitAsync(ct);
                }
            })));

        string a = await host.StartSagaAsync(new TestData { Value = "first" });
        await first.EnteredAsync();
        string b2 = await host.StartSagaAsync(new TestData { Value = "second" });

        SagaSnapshot waiting = (await host.Client.GetAsync(b2, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, waiting.Status);
        Assert.Null(waiting.LeaseOwner);
        await Eventually.QuietPeriodAsync();
        Assert.Empty(host.Ledger.Forward(b2));

        first.Release();
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(a)).Status);
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(b2)).Status);
        Assert.Equal(["work"], host.Ledger.Forward(b2));
    }

    [Fact]
    public async Task StepReturningNullTask_CountsAsCompleted()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Saga("null-task", saga =>
            saga.Step("a").Execute((ctx, _) =>
            {
                b.Ledger.Record(ctx);
                return null!;
            })));

        string id = await host.StartSagaAsync();
        Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
    }

    [Fact]
    public async Task SagasWaitingInTheStore_AreAllRun_NeverMoreAtOnceThanMaxConcurrentSagas()
    {
        InMemorySagaStore store = new();
        List<string> ids = [];
        await using (SagaTestHost starter = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Options(o => o.RunCoordinator = false);
            b.Saga("batch", saga => saga.Step("work").Execute(b.Ledger.Ok<TestData>()));
        }))
        {
            for (int i = 0; i < 20; i++)
            {
                ids.Add(await starter.StartSagaAsync());
            }
        }

        int running = 0;
        int most = 0;
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Options(o => o.MaxConcurrentSagas = 3);
            b.Saga("batch", saga => saga.Step("work").Execute(async (ctx, ct) =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref most, now);
                b.Ledger.Record(ctx);
                await Task.Delay(5, ct);
                Interlocked.Decrement(ref running);
            }));
        });

        foreach (string id in ids)
        {
            Assert.Equal(SagaStatus.Completed, (await host.WaitForEndAsync(id)).Status);
        }

        Assert.InRange(most, 1, 3);
        Assert.All(ids, id => Assert.Single(host.Ledger.Forward(id)));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
