using BuildingBlocks.TaskQueue;
using BuildingBlocks.TaskQueue.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the SQLite store into a task queue registered with <c>AddTaskQueue</c>.</summary>
public static class SqliteTaskQueueBuilderExtensions
{
    /// <summary>
    /// Keeps this queue's tasks in a SQLite file: <see cref="SqliteTaskStore"/> replaces the in-memory store as the
    /// queue's keyed <see cref="ITaskStore"/> (key: the queue's name), with options validated at start-up. The store uses
    /// the container's <see cref="TimeProvider"/>, or the system clock, and is disposed with the container.
    /// </summary>
    /// <param name="builder">The builder <c>AddTaskQueue</c> returned.</param>
    /// <param name="dataSource">
    /// The database file path (created with its directory when missing). To pass a full connection string instead, set
    /// <see cref="SqliteTaskStoreOptions.ConnectionString"/> and <see cref="SqliteTaskStoreOptions.DataSource"/> = <see langword="null"/>
    /// in <paramref name="configure"/>.
    /// </param>
    /// <param name="configure">Configures the options further (busy timeout, connection string).</param>
    /// <returns>The builder.</returns>
    public static ITaskQueueBuilder UseSqlite(this ITaskQueueBuilder builder, string dataSource, Action<SqliteTaskStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        string name = builder.Name;

        OptionsBuilder<SqliteTaskStoreOptions> options = builder.Services.AddOptions<SqliteTaskStoreOptions>(name).Configure(o => o.DataSource = dataSource);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteTaskStoreOptions>, SqliteTaskStoreOptionsValidator>());

        // The core registers the in-memory store with TryAdd as the default; this choice replaces it (and an earlier UseSqlite).
        for (int i = builder.Services.Count - 1; i >= 0; i--)
        {
            ServiceDescriptor descriptor = builder.Services[i];
            if (descriptor.ServiceType == typeof(ITaskStore) && descriptor.IsKeyedService && Equals(descriptor.ServiceKey, name))
            {
                builder.Services.RemoveAt(i);
            }
        }

        builder.Services.AddKeyedSingleton<ITaskStore>(name, (sp, _) => new SqliteTaskStore(
            sp.GetRequiredService<IOptionsMonitor<SqliteTaskStoreOptions>>().Get(name),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return builder;
    }
}
