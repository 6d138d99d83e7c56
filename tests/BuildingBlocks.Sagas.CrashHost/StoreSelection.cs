using BuildingBlocks.Sagas.PostgreSql;
using BuildingBlocks.Sagas.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>Puts the store the command line chose under the saga registration, wrapped in <see cref="ObservedSagaStore"/>.</summary>
internal static class StoreSelection
{
    public static ISagasBuilder UseStore(this ISagasBuilder builder, CrashHostArguments arguments)
    {
        if (arguments.Store == CrashHostArguments.Postgres)
        {
            builder.UsePostgreSql(arguments.ConnectionString, o => o.Schema = arguments.Schema);
        }
        else
        {
            builder.UseSqlite(arguments.Database);
        }

        ServiceDescriptor chosen = builder.Services.Last(d => d.ServiceType == typeof(ISagaStore) && !d.IsKeyedService);
        Func<IServiceProvider, object> factory = chosen.ImplementationFactory
            ?? throw new InvalidOperationException($"The {arguments.Store} store is not registered with a factory; the crash host cannot wrap it.");
        builder.Services.Remove(chosen);

        // When the store is also registered as itself the container disposes it; otherwise the wrapper owns what the factory made.
        Type concrete = arguments.Store == CrashHostArguments.Postgres ? typeof(PostgreSqlSagaStore) : typeof(SqliteSagaStore);
        bool owned = !builder.Services.Any(d => d.ServiceType == concrete && !d.IsKeyedService);
        builder.Services.AddSingleton<ISagaStore>(sp => new ObservedSagaStore((ISagaStore)factory(sp), owned));
        return builder;
    }
}
