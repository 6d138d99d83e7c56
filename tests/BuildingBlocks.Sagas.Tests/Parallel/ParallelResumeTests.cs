using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Parallel;

public sealed class ParallelResumeTests
{
    [Fact]
    public async Task GroupWithAFailedBranch_ResumedElsewhere_GivesTheOtherBranchOneAttempt_WithoutRetries_ThenCompensates()
    {
        InMemorySagaStore store = new();
        Ledger ledger = new();
        Gate hotel = new();
        void Define(SagaBuilder<TestData> saga)
        {
            saga.Step("first").Execute(ledger.Ok<TestData>()).Compensate(ledger.Ok<TestData>());
            saga.Parallel("book", p =>
            {
                p.Step("flight").Execute(ledger.FailsForGood<TestData>("no seats"));
                p.Step("hotel")
                    .Execute(async (ctx, ct) =>
                    {
                        ledger.Record(ctx);
                        if (!hotel.IsReleased)
                        {
                            await hotel.WaitAsync(ct);
                        }

                        throw new HttpRequestException("hotel API 503");
                    })
                    .WithRetry(5, r => r.InitialDelay = TimeSpan.Zero)
                    .Compensate(ledger.Ok<TestData>());
            });
        }

        string id;
        await using (SagaTestHost first = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Ledger = ledger;
            b.Options(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(50));
            b.Saga("trip", Define);
        }))
        {
            id = await first.StartSagaAsync();
            await hotel.EnteredAsync();
            await first.WaitForAsync(id, s => s.Steps[1].Status == SagaStepStatus.Failed, "flight failed");
            await first.StopAsync().WaitAsync(TimeSpan.FromSeconds(10), SagaTestHost.Ct);
        }

        Assert.True(await hotel.SawCancellation);
        SagaRecord stopped = (await store.GetAsync(id, SagaTestHost.Ct))!;
        Assert.Equal(SagaStatus.Running, stopped.Status);
        hotel.Release();

        await using SagaTestHost second = await SagaTestHost.StartAsync(b =>
        {
            b.Store = store;
            b.Ledger = ledger;
            b.Saga("trip", Define);
        });
        SagaSnapshot end = await second.WaitForEndAsync(id);

        Assert.Equal(SagaStatus.Compensated, end.Status);
        // One canceled attempt on the first host (not recorded), one on the second, no retry: a sibling had failed.
        Assert.Equal([1, 1], ledger.Attempts(id, "hotel").Select(a => a.Attempt));
        Assert.Equal(["first"], ledger.Compensations(id));
        Assert.Equal(SagaStepStatus.Failed, end.Steps[2].Status);
    }
}
