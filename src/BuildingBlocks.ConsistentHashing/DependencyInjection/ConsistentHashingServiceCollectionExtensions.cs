using BuildingBlocks.ConsistentHashing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers consistent hashes in a service collection.</summary>
public static class ConsistentHashingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default <see cref="IConsistentHash{TNode}"/> (a singleton), with options validated at start-up.
    /// Safe to call more than once: configuration actions add up, the service is registered once.
    /// </summary>
    /// <typeparam name="TNode">The node type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder for further configuration.</returns>
    public static IConsistentHashingBuilder<TNode> AddConsistentHashing<TNode>(this IServiceCollection services, Action<ConsistentHashOptions<TNode>>? configure) =>
        services.AddConsistentHashing(Options.Options.DefaultName, configure);

    /// <summary>Registers the default <see cref="IConsistentHash{TNode}"/> with default options (string nodes need nothing else).</summary>
    /// <typeparam name="TNode">The node type.</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>A builder for further configuration.</returns>
    public static IConsistentHashingBuilder<TNode> AddConsistentHashing<TNode>(this IServiceCollection services) =>
        services.AddConsistentHashing<TNode>(Options.Options.DefaultName, null);

    /// <summary>
    /// Registers a named <see cref="IConsistentHash{TNode}"/>, resolved with
    /// <c>GetRequiredKeyedService&lt;IConsistentHash&lt;TNode&gt;&gt;(name)</c> or <c>[FromKeyedServices(name)]</c>.
    /// </summary>
    /// <typeparam name="TNode">The node type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The name; "" is the default instance.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder for further configuration.</returns>
    public static IConsistentHashingBuilder<TNode> AddConsistentHashing<TNode>(this IServiceCollection services, string name, Action<ConsistentHashOptions<TNode>>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);

        OptionsBuilder<ConsistentHashOptions<TNode>> options = services.AddOptions<ConsistentHashOptions<TNode>>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsistentHashOptions<TNode>>, ConsistentHashOptionsValidator<TNode>>());
        services.TryAddSingleton<ConsistentHashingTelemetry>();
        services.TryAddKeyedSingleton<IConsistentHash<TNode>>(name, (sp, _) =>
        {
            ConsistentHashOptions<TNode> resolved = sp.GetRequiredService<IOptionsMonitor<ConsistentHashOptions<TNode>>>().Get(name);
            ConsistentHash<TNode> hash = ConsistentHash.Create(resolved);
            sp.GetRequiredService<ConsistentHashingTelemetry>().Attach(name, hash);
            return hash;
        });

        if (name.Length == 0)
        {
            services.TryAddSingleton(sp => sp.GetRequiredKeyedService<IConsistentHash<TNode>>(Options.Options.DefaultName));
        }

        return new ConsistentHashingBuilder<TNode>(services, name);
    }

    /// <summary>Adds initial members of weight 1 (in order, which matters for Jump).</summary>
    /// <typeparam name="TNode">The node type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="nodes">The nodes.</param>
    /// <returns>The builder.</returns>
    public static IConsistentHashingBuilder<TNode> WithNodes<TNode>(this IConsistentHashingBuilder<TNode> builder, params IEnumerable<TNode> nodes)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(nodes);
        TNode[] copy = [.. nodes];
        builder.Services.Configure<ConsistentHashOptions<TNode>>(builder.Name, o =>
        {
            foreach (TNode node in copy)
            {
                o.Nodes.Add(new WeightedNode<TNode>(node));
            }
        });
        return builder;
    }

    /// <summary>Adds one initial member with a weight.</summary>
    /// <typeparam name="TNode">The node type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="node">The node.</param>
    /// <param name="weight">Its relative weight.</param>
    /// <returns>The builder.</returns>
    public static IConsistentHashingBuilder<TNode> WithNode<TNode>(this IConsistentHashingBuilder<TNode> builder, TNode node, double weight = 1.0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<ConsistentHashOptions<TNode>>(builder.Name, o => o.Nodes.Add(new WeightedNode<TNode>(node, weight)));
        return builder;
    }

    /// <summary>Uses a custom key hasher for this registration.</summary>
    /// <typeparam name="TNode">The node type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="hasher">The hasher; must give the same hash for the same bytes in every process.</param>
    /// <returns>The builder.</returns>
    public static IConsistentHashingBuilder<TNode> UseKeyHasher<TNode>(this IConsistentHashingBuilder<TNode> builder, IKeyHasher hasher)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(hasher);
        builder.Services.Configure<ConsistentHashOptions<TNode>>(builder.Name, o => o.KeyHasher = hasher);
        return builder;
    }

    private sealed class ConsistentHashingBuilder<TNode>(IServiceCollection services, string name) : IConsistentHashingBuilder<TNode>
    {
        public IServiceCollection Services { get; } = services;

        public string Name { get; } = name;
    }
}
