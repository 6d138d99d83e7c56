using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BuildingBlocks.TaskQueue.PostgreSql.Tests.DependencyInjection;

/// <summary>The LISTEN connection survives a server restart: it reconnects and wakes the worker again.</summary>
public sealed class PostgreSqlTaskListenerTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AfterTheServerRestarts_TheListenerReconnects_AndTheWorkerPicksUpNewTasks()
    {
        // This test restarts its server, so it has one of its own.
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);
        string connectionString = await server.CreateDatabaseAsync(cancellationToken: Ct);
        var handled = new System.Collections.Concurrent.ConcurrentQueue<long>();

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue(o => o.PollInterval = TimeSpan.FromSeconds(1))
            .UsePostgreSql(connectionString, o => o.ListenerReconnectDelay = TimeSpan.FromMilliseconds(100))
            .AddHandler("jobs", (context, _) =>
            {
                handled.Enqueue(context.TaskId);
                return ValueTask.CompletedTask;
            });
        using IHost host = builder.Build();
        await host.StartAsync(Ct);
        PostgreSqlTaskListener listener = host.Services.GetServices<IHostedService>().OfType<PostgreSqlTaskListener>().Single();
        await EventuallyAsync(() => listener.IsListening, "the listener never connected");
        int connectionsBefore = listener.Connections;

        await server.StopAsync(Ct);
        await EventuallyAsync(() => !listener.IsListening, "the listener did not notice the server stopped");
        await server.StartAgainAsync(Ct);
        await EventuallyAsync(() => listener.IsListening && listener.Connections > connectionsBefore, "the listener did not reconnect after the server came back");

        await using var producer = new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = connectionString });
        EnqueueResult enqueued = await new TaskQueueClient(producer).EnqueueAsync(new NewTask("jobs", "{}"u8.ToArray()), Ct);
        await EventuallyAsync(() => handled.Contains(enqueued.TaskId), "the worker did not run the task enqueued after the restart");
        await host.StopAsync(Ct);
    }

    private static async Task EventuallyAsync(Func<bool> condition, string failure)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < s_deadline, $"{failure} within {s_deadline.TotalSeconds} s");
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, Ct);
        }
    }
}
