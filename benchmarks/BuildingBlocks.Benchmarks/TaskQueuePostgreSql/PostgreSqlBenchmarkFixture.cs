using BuildingBlocks.Benchmarks.TaskQueue;
using BuildingBlocks.TaskQueue;
using BuildingBlocks.TaskQueue.PostgreSql;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace BuildingBlocks.Benchmarks.PostgreSql;

/// <summary>
/// What the PostgreSQL benchmarks share: our store and worker host on a schema of their own, and Hangfire on
/// Hangfire.PostgreSql in another schema of the same database. Queue name, payloads and worker count are those of
/// <see cref="TaskQueueFixture"/>.
/// </summary>
internal static class PostgreSqlBenchmarkFixture
{
    /// <summary>A store on <paramref name="schema"/>, its schema created outside any measurement.</summary>
    public static PostgreSqlTaskStore CreateStore(string connectionString, string schema)
    {
        var store = new PostgreSqlTaskStore(new PostgreSqlTaskStoreOptions { ConnectionString = connectionString, Schema = schema });
        store.InitializeAsync().GetAwaiter().GetResult();
        return store;
    }

    /// <summary>
    /// Builds and starts a host whose worker handles <see cref="TaskQueueFixture.Queue"/> with <paramref name="handler"/>
    /// at <see cref="TaskQueueFixture.Concurrency"/> on PostgreSQL (<c>UsePostgreSql</c>: the schema is migrated and the
    /// LISTEN connection opened at start); no logging providers, default options otherwise.
    /// </summary>
    public static IHost StartHost(string connectionString, string schema, Func<TaskContext, CancellationToken, ValueTask> handler)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue()
            .UsePostgreSql(connectionString, o => o.Schema = schema)
            .AddHandler(TaskQueueFixture.Queue, handler, o => o.Concurrency = TaskQueueFixture.Concurrency);
        IHost host = builder.Build();
        host.StartAsync().GetAwaiter().GetResult();
        return host;
    }

    /// <summary>
    /// Hangfire.PostgreSql storage on <paramref name="schema"/> (created now: <c>PrepareSchemaIfNecessary</c>), package
    /// defaults otherwise unless <paramref name="longPolling"/> turns on its LISTEN/NOTIFY wake-up (<c>EnableLongPolling</c>).
    /// </summary>
    public static PostgreSqlStorage CreateHangfireStorage(string connectionString, string schema, bool longPolling = false)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = schema,
            PrepareSchemaIfNecessary = true,
            EnableLongPolling = longPolling,
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }

    /// <summary>Hangfire.PostgreSql's default queue poll interval (how often an idle worker looks without a wake-up).</summary>
    public static TimeSpan HangfireDefaultQueuePollInterval => new PostgreSqlStorageOptions().QueuePollInterval;

    /// <summary>Closes pooled connections (so a schema can be dropped at once) and drops the schemas.</summary>
    public static void DropSchemas(string? connectionString, params string?[] schemas)
    {
        if (connectionString is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        foreach (string? schema in schemas)
        {
            BenchmarkPostgreSql.DropSchema(connectionString, schema);
        }
    }
}
