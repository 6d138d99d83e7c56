using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using BuildingBlocks.Sagas;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the saga coordinator, its store and saga definitions.</summary>
public static class SagaServiceCollectionExtensions
{
    /// <summary>
    /// Registers sagas: <see cref="ISagaClient"/> and <see cref="ISagaOperator"/> (singletons), the hosted coordinator,
    /// and the in-memory store until a <c>Use…</c> call picks a durable one (<c>UseSqlite</c>, <c>UsePostgreSql</c>).
    /// Options are validated at start-up. Safe to call more than once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder for definitions and the store.</returns>
    public static ISagasBuilder AddSagas(this IServiceCollection services, Action<SagaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<SagaOptions> options = services.AddOptions<SagaOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SagaOptions>, SagaOptionsValidator>());
        services.TryAddSingleton<ISagaStore>(sp => new InMemorySagaStore(sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddSingleton(sp => new SagaRegistry(sp.GetServices<SagaRegistration>().Select(r => r.Blueprint(sp))));
        services.TryAddSingleton(sp => new SagaRuntime(
            sp.GetRequiredService<ISagaStore>(),
            sp.GetRequiredService<IOptions<SagaOptions>>().Value,
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            new SagaTelemetry(sp.GetService<IMeterFactory>()),
            (ILogger?)sp.GetService<ILoggerFactory>()?.CreateLogger("BuildingBlocks.Sagas") ?? NullLogger.Instance));
        services.TryAddSingleton(sp => new SagaCoordinator(sp.GetRequiredService<SagaRuntime>(), sp.GetRequiredService<SagaRegistry>()));
        services.TryAddSingleton(sp => new SagaClient(sp.GetRequiredService<SagaRuntime>(), sp.GetRequiredService<SagaRegistry>(), sp.GetRequiredService<SagaCoordinator>()));
        services.TryAddSingleton<ISagaClient>(sp => sp.GetRequiredService<SagaClient>());
        services.TryAddSingleton<ISagaOperator>(sp => sp.GetRequiredService<SagaClient>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SagaCoordinatorHostedService>());
        return new SagasBuilder(services);
    }

    /// <summary>
    /// Registers a saga definition (a singleton, created by the container so it can take services in its constructor).
    /// Register older versions of a definition too while sagas started under them may still run.
    /// </summary>
    /// <typeparam name="TSaga">The definition.</typeparam>
    /// <typeparam name="TData">Its data type.</typeparam>
    /// <param name="builder">The builder <c>AddSagas</c> returned.</param>
    /// <returns>The builder.</returns>
    public static ISagasBuilder AddSaga<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSaga, TData>(this ISagasBuilder builder)
        where TSaga : SagaDefinition<TData>
        where TData : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TSaga>();
        bool registered = builder.Services.Any(d => d.ServiceType == typeof(SagaRegistration) && d.ImplementationInstance is SagaRegistration r && r.DefinitionType == typeof(TSaga));
        if (!registered)
        {
            builder.Services.AddSingleton(new SagaRegistration(typeof(TSaga), static sp => sp.GetRequiredService<TSaga>().Blueprint));
        }

        return builder;
    }

    private sealed class SagasBuilder(IServiceCollection services) : ISagasBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
