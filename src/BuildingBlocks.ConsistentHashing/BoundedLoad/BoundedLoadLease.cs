namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// One unit of load placed on a node by <see cref="BoundedLoadHashRing{TNode}.Acquire(string)"/>.
/// Dispose it once when the work is done (for example when the request completes). Copies of the struct are
/// the same lease; disposing again, or after the node left the ring, changes nothing as long as the node's
/// load is zero — while other leases hold load on that node, a second dispose releases one of theirs.
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
public readonly struct BoundedLoadLease<TNode> : IDisposable, IEquatable<BoundedLoadLease<TNode>>
{
    private readonly BoundedLoadHashRing<TNode>? _ring;
    private readonly BoundedLoadHashRing<TNode>.NodeLoad? _load;
    private readonly long _id;

    internal BoundedLoadLease(BoundedLoadHashRing<TNode> ring, BoundedLoadHashRing<TNode>.NodeLoad load, TNode node)
    {
        _ring = ring;
        _load = load;
        _id = LeaseIds.Next();
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
    public bool Equals(BoundedLoadLease<TNode> other) => _id == other._id && ReferenceEquals(_load, other._load);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BoundedLoadLease<TNode> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_id);
}

/// <summary>Identities for leases, so two acquisitions on one node never compare equal.</summary>
internal static class LeaseIds
{
    private static long s_last;

    public static long Next() => Interlocked.Increment(ref s_last);
}
