using BuildingBlocks.ConsistentHashing;
using ConsistentHashing.LoadBalancing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the consistent-hashing load balancer: the ring of servers and the "balanced" HttpClient.</summary>
public static class LoadBalancingServiceCollectionExtensions
{
    /// <summary>The name of the HttpClient whose requests are routed by <see cref="ConsistentHashingHandler"/>.</summary>
    public const string BalancedClientName = "balanced";

    /// <summary>
    /// The client's placeholder base address. The handler replaces its scheme, host and port with the chosen server's,
    /// so relative request URIs (<c>work/42</c>) work; <c>.invalid</c> never resolves, should a request ever bypass the handler.
    /// </summary>
    public static readonly Uri PlaceholderBaseAddress = new("http://backend.invalid/");

    /// <summary>
    /// Registers <see cref="IConsistentHash{TNode}"/> of <see cref="ServerEndpoint"/> (keyed by server name, 160 virtual
    /// nodes, no initial servers) and the <see cref="BalancedClientName"/> HttpClient with <see cref="ConsistentHashingHandler"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configureHandler">Where the handler reads request ids from; default header <c>X-Request-Id</c>, then the path.</param>
    /// <returns>The builder of the balanced HttpClient.</returns>
    public static IHttpClientBuilder AddConsistentHashingLoadBalancer(this IServiceCollection services, Action<ConsistentHashingHandlerOptions>? configureHandler = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddConsistentHashing<ServerEndpoint>(o =>
        {
            o.NodeKeySelector = s => s.Name;
            o.VirtualNodes = 160;
        });

        OptionsBuilder<ConsistentHashingHandlerOptions> handlerOptions = services.AddOptions<ConsistentHashingHandlerOptions>();
        if (configureHandler is not null)
        {
            handlerOptions.Configure(configureHandler);
        }

        services.TryAddTransient<ConsistentHashingHandler>();
        return services
            .AddHttpClient(BalancedClientName, client => client.BaseAddress = PlaceholderBaseAddress)
            .AddHttpMessageHandler<ConsistentHashingHandler>();
    }
}
