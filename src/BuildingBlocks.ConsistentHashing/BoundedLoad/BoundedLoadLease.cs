namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// One unit of load placed on a node by <see cref="BoundedLoadHashRing{TNode}.Acquire(string)"/>.
/// Dispose it exactly once when the work is done (for example when the request completes).
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
public readonly struct BoundedLoadLease<TNode> : IDisposable, IEquatable<BoundedLoadLease<TNode>>
{
    private readonly BoundedLoadHashRing<TNode>? _ring;
    private readonly BoundedLoadHashRing<TNode>.NodeLoad? _load;

    internal BoundedLoadLease(BoundedLoadHashRing<TNode> ring, BoundedLoadHashRing<TNode>.NodeLoad load, TNode node)
    {
        _ring = ring;
        _load = load;
        Node = node;
    }

    /// <summary>The node that took the load.</summary>
    public TNode Node { get; }

    /// <summary>Equality operator.</summary>
    /// <param name="left">The left lease.</param>
    /// <param name="right">The right lease.</param>
    /// <returns>True when both are the same lease.</returns>
    public static bool operator ==(BoundedLoadLease<TNode> left, BoundedLoadLease<TNode> right) => left.Equals(right);

    /// <summary>Inequality operator.</summary>
    /// <param name="left">The left lease.</param>
    /// <param name="right">The right lease.</param>
    /// <returns>True when the leases differ.</returns>
    public static bool operator !=(BoundedLoadLease<TNode> left, BoundedLoadLease<TNode> right) => !left.Equals(right);

    /// <summary>Releases the load. A default lease does nothing.</summary>
    public void Dispose() => _ring?.Release(_load!);

    /// <inheritdoc />
    public bool Equals(BoundedLoadLease<TNode> other) => ReferenceEquals(_load, other._load) && EqualityComparer<TNode>.Default.Equals(Node, other.Node);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BoundedLoadLease<TNode> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_load, Node);
}
