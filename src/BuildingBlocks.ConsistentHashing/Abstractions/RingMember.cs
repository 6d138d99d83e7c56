namespace BuildingBlocks.ConsistentHashing;

/// <summary>A node as the consistent hash knows it: its stable key, the node itself and its weight.</summary>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class RingMember<TNode>
{
    internal RingMember(string key, TNode node, double weight)
    {
        Key = key;
        Node = node;
        Weight = weight;
    }

    /// <summary>The node's stable identity; its positions are derived from this key's UTF-8 bytes.</summary>
    public string Key { get; }

    /// <summary>The node.</summary>
    public TNode Node { get; }

    /// <summary>The node's relative weight.</summary>
    public double Weight { get; }

    /// <inheritdoc />
    public override string ToString() => Weight == 1.0 ? Key : $"{Key} (weight {Weight})";
}
