using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>Creates the consistent hash that <see cref="ConsistentHashOptions{TNode}.Algorithm"/> names.</summary>
public static class ConsistentHash
{
    /// <summary>Creates a consistent hash for <paramref name="options"/>.</summary>
    /// <typeparam name="TNode">The node type.</typeparam>
    /// <param name="options">The options; validated here.</param>
    /// <returns>A <see cref="HashRing{TNode}"/>, <see cref="JumpHash{TNode}"/>, <see cref="RendezvousHash{TNode}"/>, <see cref="MaglevHash{TNode}"/> or <see cref="BoundedLoadHashRing{TNode}"/>.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message names it.</exception>
    public static ConsistentHash<TNode> Create<TNode>(ConsistentHashOptions<TNode> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Algorithm switch
        {
            ConsistentHashAlgorithm.Ring => new HashRing<TNode>(options),
            ConsistentHashAlgorithm.Jump => new JumpHash<TNode>(options),
            ConsistentHashAlgorithm.Rendezvous => new RendezvousHash<TNode>(options),
            ConsistentHashAlgorithm.Maglev => new MaglevHash<TNode>(options),
            ConsistentHashAlgorithm.BoundedLoad => new BoundedLoadHashRing<TNode>(options),
            _ => throw new OptionsValidationException(Options.DefaultName, typeof(ConsistentHashOptions<TNode>),
                [$"ConsistentHashOptions.Algorithm = {(int)options.Algorithm} is not a ConsistentHashAlgorithm value"]),
        };
    }
}
