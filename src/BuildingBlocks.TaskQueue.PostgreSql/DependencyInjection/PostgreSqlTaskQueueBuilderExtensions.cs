using BuildingBlocks.TaskQueue;
using BuildingBlocks.TaskQueue.PostgreSql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the PostgreSQL store into a task queue registered with <c>AddTaskQueue</c>.</summary>
public static class PostgreSqlTaskQueueBuilderExtensions
{
    /// <summary>
    /// Keeps this queue's tasks in PostgreSQL: <see cref="PostgreSqlTaskStore"/> becomes the queue's keyed
    /// <see cref="ITaskStore"/> (key: the queue's name), options are validated at start-up, the schema is migrated at host
    /// start (unless <see cref="PostgreSqlTaskStoreOptions.MigrateSchema"/> is off), and a hosted listener wakes this
    /// process's workers on <c>NOTIFY</c> from any process.
    /// </summary>
    /// <param name="builder">The builder <c>AddTaskQueue</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="configure">Configures the options further (schema, migration, timeouts).</param>
    /// <returns>The builder.</returns>
    public static ITaskQueueBuilder UsePostgreSql(this ITaskQueueBuilder builder, string connectionString, Action<PostgreSqlTaskStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return builder.UsePostgreSql(o =>
        {
            o.ConnectionString = connectionString;
            configure?.Invoke(o);
        });
    }

    /// <summary>As <see cref="UsePostgreSql(ITaskQueueBuilder, string, Action{PostgreSqlTaskStoreOptions}?)"/>, on a data source the application owns.</summary>
    /// <param name="builder">The builder <c>AddTaskQueue</c> returned.</param>
    /// <param name="dataSource">The data source; the application disposes it.</param>
    /// <param name="configure">Configures the options further (schema, migration, timeouts).</param>
    /// <returns>The builder.</returns>
    public static ITaskQueueBuilder UsePostgreSql(this ITaskQueueBuilder builder, NpgsqlDataSource dataSource, Action<PostgreSqlTaskStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return builder.UsePostgreSql(o =>
        {
            o.DataSource = dataSource;
            configure?.Invoke(o);
        });
    }

    private static ITaskQueueBuilder UsePostgreSql(this ITaskQueueBuilder builder, Action<PostgreSqlTaskStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string name = builder.Name;
        builder.Services.AddOptions<PostgreSqlTaskStoreOptions>(name).Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlTaskStoreOptions>, PostgreSqlTaskStoreOptionsValidator>());

        // This choice replaces the default in-memory store (and an earlier Use… call) of this queue.
        builder.Services.RemoveAllKeyed<ITaskStore>(name);
        builder.Services.RemoveAllKeyed<PostgreSqlTaskStore>(name);
        builder.Services.AddKeyedSingleton(name, (sp, _) => new PostgreSqlTaskStore(
            sp.GetRequiredService<IOptionsMonitor<PostgreSqlTaskStoreOptions>>().Get(name),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.AddKeyedSingleton<ITaskStore>(name, (sp, _) => sp.GetRequiredKeyedService<PostgreSqlTaskStore>(name));

        // One listener per queue name, however often this is called.
        if (!builder.Services.Any(d => d.ServiceType == typeof(ListenerRegistration) && d.IsKeyedService && Equals(d.ServiceKey, name)))
        {
            builder.Services.AddKeyedSingleton(name, new ListenerRegistration());
            builder.Services.AddSingleton<IHostedService>(sp => new PostgreSqlTaskListener(
                name,
                sp.GetRequiredKeyedService<PostgreSqlTaskStore>(name),
                sp.GetRequiredKeyedService<TaskNotifier>(name),
                sp.GetRequiredService<IOptionsMonitor<PostgreSqlTaskStoreOptions>>().Get(name).ListenerReconnectDelay,
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetService<ILogger<PostgreSqlTaskListener>>() ?? NullLogger<PostgreSqlTaskListener>.Instance));
        }

        return builder;
    }

    private sealed class ListenerRegistration;
}
