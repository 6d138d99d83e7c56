using BuildingBlocks.Sagas;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BuildingBlocks.Sagas.Tests.Smoke;

public sealed class SmokeTests
{
    public sealed class TripData
    {
        public string Trip { get; set; } = "";
        public List<string> Log { get; set; } = [];
        public bool FailCar { get; set; }
    }

    public sealed class TripSaga : SagaDefinition<TripData>
    {
        protected override void Define(SagaBuilder<TripData> saga)
        {
            saga.Step("flight")
                .Execute((ctx, ct) => { lock (ctx.Data) { ctx.Data.Log.Add("flight"); } return Task.CompletedTask; })
                .Compensate((ctx, ct) => { lock (ctx.Data) { ctx.Data.Log.Add("undo flight"); } return Task.CompletedTask; });
            saga.Parallel("stay", p =>
            {
                p.Step("hotel").Execute((ctx, ct) => { lock (ctx.Data) { ctx.Data.Log.Add("hotel"); } return Task.CompletedTask; })
                    .Compensate((ctx, ct) => { lock (ctx.Data) { ctx.Data.Log.Add("undo hotel"); } return Task.CompletedTask; });
                p.Step("car").Execute((ctx, ct) => ctx.Data.FailCar ? throw new PermanentStepFailureException("no cars") : Task.CompletedTask)
                    .Compensate((ctx, ct) => Task.CompletedTask);
            });
            saga.Step("email").Execute((ctx, ct) => Task.CompletedTask);
        }
    }

    [Theory]
    [InlineData(false, SagaStatus.Completed)]
    [InlineData(true, SagaStatus.Compensated)]
    public async Task Trip_RunsToTheEnd(bool failCar, SagaStatus expected)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddSagas().AddSaga<TripSaga, TripData>();
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        ISagaClient client = host.Services.GetRequiredService<ISagaClient>();
        string id = await client.StartAsync(new TripData { Trip = "x", FailCar = failCar }, cancellationToken: TestContext.Current.CancellationToken);
        SagaSnapshot end = await client.WaitForEndAsync(id, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(expected, end.Status);
        TripData data = (await client.GetDataAsync<TripData>(id, TestContext.Current.CancellationToken))!;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(",", data.Log));
        TestContext.Current.TestOutputHelper?.WriteLine(await client.GetPathDiagramAsync(id, TestContext.Current.CancellationToken));
        TestContext.Current.TestOutputHelper?.WriteLine(client.GetDefinitionDiagram("TripSaga"));
        if (failCar)
        {
            Assert.Equal(["flight", "hotel", "undo hotel", "undo flight"], data.Log);
        }
        else
        {
            Assert.Equal(["flight", "hotel"], data.Log);
        }

        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
