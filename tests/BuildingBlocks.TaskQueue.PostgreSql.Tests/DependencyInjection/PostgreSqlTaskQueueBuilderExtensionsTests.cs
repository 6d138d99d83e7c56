using BuildingBlocks.TaskQueue.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.TaskQueue.PostgreSql.Tests.DependencyInjection;

/// <summary>UsePostgreSql: registration, start-up validation, and wake-ups between hosts through LISTEN/NOTIFY.</summary>
public sealed class PostgreSqlTaskQueueBuilderExtensionsTests(PostgreSqlFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UsePostgreSql_ReplacesTheInMemoryStore_AndMigratesAtHostStart()
    {
        string connectionString = await PostgreSqlDatabase.ConnectionStringAsync(fixture);
        string schema = PostgreSqlDatabase.NewSchema();
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue().UsePostgreSql(connectionString, o => o.Schema = schema);
        using IHost host = builder.Build();

        await host.StartAsync(Ct);

        var store = Assert.IsType<PostgreSqlTaskStore>(host.Services.GetRequiredKeyedService<ITaskStore>(""));
        Assert.Equal(schema, store.Schema);
        await using Npgsql.NpgsqlCommand exists = store.DataSource.CreateCommand($"SELECT to_regclass('\"{schema}\".tasks') IS NOT NULL;");
        Assert.Equal(true, await exists.ExecuteScalarAsync(Ct));
        await host.StopAsync(Ct);
    }

    [Fact]
    public void InvalidOptions_FailAtStart_WithMessagesNamingTheOptions()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue("jobs", configure: null).UsePostgreSql("Host=localhost", o =>
        {
            o.Schema = "Bad-Name";
            o.CommandTimeout = TimeSpan.Zero;
        });
        using IHost host = builder.Build();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptionsMonitor<PostgreSqlTaskStoreOptions>>().Get("jobs"));

        Assert.Contains("PostgreSqlTaskStoreOptions['jobs'].Schema is 'Bad-Name'", error.Message, StringComparison.Ordinal);
        Assert.Contains("PostgreSqlTaskStoreOptions['jobs'].CommandTimeout is 00:00:00", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATaskEnqueuedByAnotherHost_WakesThisHostsWorkerThroughNotify_LongBeforeItsPoll()
    {
        string connectionString = await PostgreSqlDatabase.ConnectionStringAsync(fixture);
        string schema = PostgreSqlDatabase.NewSchema();
        var handled = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);

        HostApplicationBuilder workerBuilder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        workerBuilder.Services.AddTaskQueue(o => o.PollInterval = TimeSpan.FromMinutes(10))
            .UsePostgreSql(connectionString, o => o.Schema = schema)
            .AddHandler("emails", (context, _) =>
            {
                handled.TrySetResult(context.TaskId);
                return ValueTask.CompletedTask;
            });
        using IHost worker = workerBuilder.Build();
        await worker.StartAsync(Ct);

        // The producer is a separate host with its own store and connections: only the server connects the two.
        HostApplicationBuilder producerBuilder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        producerBuilder.Services.AddTaskQueue().UsePostgreSql(connectionString, o => o.Schema = schema);
        using IHost producer = producerBuilder.Build();
        await producer.StartAsync(Ct);

        // Let the worker's first look (at start) pass, so only a notification can wake it within the poll interval.
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, Ct);
        EnqueueResult enqueued = await producer.Services.GetRequiredService<ITaskQueue>().EnqueueAsync(new NewTask("emails", "{}"u8.ToArray()), Ct);

        Assert.Equal(enqueued.TaskId, await handled.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        await producer.StopAsync(Ct);
        await worker.StopAsync(Ct);
    }
}
