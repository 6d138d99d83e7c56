using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>Returned by <c>AddConsistentHashing</c>; its extension methods configure that registration.</summary>
/// <typeparam name="TNode">The node type.</typeparam>
public interface IConsistentHashingBuilder<TNode>
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>The registration name: the options name and the service key ("" for the default instance).</summary>
    string Name { get; }
}
