using BuildingBlocks.Sagas;
using BuildingBlocks.Sagas.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Plugs the SQLite store into sagas registered with <c>AddSagas</c>.</summary>
public static class SqliteSagasBuilderExtensions
{
    /// <summary>
    /// Keeps sagas in a SQLite file: one <see cref="SqliteSagaStore"/> (also resolvable as itself) replaces the in-memory
    /// store (and any store chosen before) as the <see cref="ISagaStore"/>, with options validated at start-up. The store uses the container's
    /// <see cref="TimeProvider"/>, or the system clock, and is disposed with the container.
    /// </summary>
    /// <param name="builder">The builder <c>AddSagas</c> returned.</param>
    /// <param name="dataSource">
    /// The database file path (created with its directory when missing). To pass a full connection string instead, set
    /// <see cref="SqliteSagaStoreOptions.ConnectionString"/> and <see cref="SqliteSagaStoreOptions.DataSource"/> = <see langword="null"/>
    /// in <paramref name="configure"/>.
    /// </param>
    /// <param name="configure">Configures the options further (durability, busy timeout, connection string).</param>
    /// <returns>The builder.</returns>
    public static ISagasBuilder UseSqlite(this ISagasBuilder builder, string dataSource, Action<SqliteSagaStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);

        OptionsBuilder<SqliteSagaStoreOptions> options = builder.Services.AddOptions<SqliteSagaStoreOptions>().Configure(o => o.DataSource = dataSource);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteSagaStoreOptions>, SqliteSagaStoreOptionsValidator>());

        // The core registers the in-memory store with TryAdd as the default; this choice replaces it (and an earlier Use…).
        for (int i = builder.Services.Count - 1; i >= 0; i--)
        {
            ServiceDescriptor descriptor = builder.Services[i];
            if ((descriptor.ServiceType == typeof(ISagaStore) || descriptor.ServiceType == typeof(SqliteSagaStore)) && !descriptor.IsKeyedService)
            {
                builder.Services.RemoveAt(i);
            }
        }

        builder.Services.AddSingleton(sp => new SqliteSagaStore(
            sp.GetRequiredService<IOptions<SqliteSagaStoreOptions>>().Value,
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.AddSingleton<ISagaStore>(sp => sp.GetRequiredService<SqliteSagaStore>());
        return builder;
    }
}
