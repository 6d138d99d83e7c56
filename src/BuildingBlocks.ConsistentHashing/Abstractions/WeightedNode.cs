namespace BuildingBlocks.ConsistentHashing;

/// <summary>A node and its relative weight, as given when setting membership.</summary>
/// <typeparam name="TNode">The node type.</typeparam>
/// <param name="Node">The node.</param>
/// <param name="Weight">Its relative capacity: 2 takes about twice the keys of 1. Must be finite and greater than 0.</param>
public readonly record struct WeightedNode<TNode>(TNode Node, double Weight = 1.0);
