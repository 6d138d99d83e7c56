using BuildingBlocks.Sagas;
using BuildingBlocks.Sagas.PostgreSql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the PostgreSQL store into sagas registered with <c>AddSagas</c>.</summary>
public static class PostgreSqlSagasBuilderExtensions
{
    /// <summary>
    /// Keeps sagas in PostgreSQL: <see cref="PostgreSqlSagaStore"/> replaces the in-memory store (and an earlier
    /// <c>Use…</c> call) as the <see cref="ISagaStore"/>, with options validated at start-up. The store uses the
    /// container's <see cref="TimeProvider"/>, or the system clock, creates its tables on first use (unless
    /// <see cref="PostgreSqlSagaStoreOptions.MigrateSchema"/> is off) and is disposed with the container.
    /// </summary>
    /// <param name="builder">The builder <c>AddSagas</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string; the store builds and owns its data source.</param>
    /// <param name="configure">Configures the options further (schema, migration, command timeout).</param>
    /// <returns>The builder.</returns>
    public static ISagasBuilder UsePostgreSql(this ISagasBuilder builder, string connectionString, Action<PostgreSqlSagaStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        OptionsBuilder<PostgreSqlSagaStoreOptions> options = builder.Services.AddOptions<PostgreSqlSagaStoreOptions>().Configure(o =>
        {
            o.ConnectionString = connectionString;
            o.DataSource = null;
        });
        return builder.Register(options, configure);
    }

    /// <summary>
    /// As <see cref="UsePostgreSql(ISagasBuilder, string, Action{PostgreSqlSagaStoreOptions}?)"/>, on a data source the
    /// application owns (for example the one <c>AddNpgsqlDataSource</c> registers): the store does not dispose it.
    /// </summary>
    /// <param name="builder">The builder <c>AddSagas</c> returned.</param>
    /// <param name="dataSourceFactory">Returns the data source, given the container (called once, when the options are first read).</param>
    /// <param name="configure">Configures the options further (schema, migration, command timeout).</param>
    /// <returns>The builder.</returns>
    public static ISagasBuilder UsePostgreSql(this ISagasBuilder builder, Func<IServiceProvider, NpgsqlDataSource> dataSourceFactory, Action<PostgreSqlSagaStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSourceFactory);
        OptionsBuilder<PostgreSqlSagaStoreOptions> options = builder.Services.AddOptions<PostgreSqlSagaStoreOptions>().Configure<IServiceProvider>((o, sp) =>
        {
            o.ConnectionString = null;
            o.DataSource = dataSourceFactory(sp);
        });
        return builder.Register(options, configure);
    }

    private static ISagasBuilder Register(this ISagasBuilder builder, OptionsBuilder<PostgreSqlSagaStoreOptions> options, Action<PostgreSqlSagaStoreOptions>? configure)
    {
        if (configure is not null)
        {
            _ = options.Configure(configure);
        }

        _ = options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlSagaStoreOptions>, PostgreSqlSagaStoreOptionsValidator>());

        // AddSagas registers the in-memory store with TryAdd as the default; this choice replaces it (and an earlier Use… call).
        for (int i = builder.Services.Count - 1; i >= 0; i--)
        {
            ServiceDescriptor descriptor = builder.Services[i];
            if (!descriptor.IsKeyedService && (descriptor.ServiceType == typeof(ISagaStore) || descriptor.ServiceType == typeof(PostgreSqlSagaStore)))
            {
                builder.Services.RemoveAt(i);
            }
        }

        builder.Services.AddSingleton(sp => new PostgreSqlSagaStore(
            sp.GetRequiredService<IOptions<PostgreSqlSagaStoreOptions>>().Value,
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.AddSingleton<ISagaStore>(sp => sp.GetRequiredService<PostgreSqlSagaStore>());
        return builder;
    }
}
