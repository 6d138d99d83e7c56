namespace BuildingBlocks.ConsistentHashing;

/// <summary>Describes one atomic membership change of a consistent hash.</summary>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class MembershipChangedEventArgs<TNode> : EventArgs
{
    internal MembershipChangedEventArgs(long version, int nodeCount, IReadOnlyList<TNode> added, IReadOnlyList<TNode> removed, TimeSpan rebuildDuration)
    {
        Version = version;
        NodeCount = nodeCount;
        Added = added;
        Removed = removed;
        RebuildDuration = rebuildDuration;
    }

    /// <summary>The membership version after the change.</summary>
    public long Version { get; }

    /// <summary>The number of nodes after the change.</summary>
    public int NodeCount { get; }

    /// <summary>The nodes that joined.</summary>
    public IReadOnlyList<TNode> Added { get; }

    /// <summary>The nodes that left.</summary>
    public IReadOnlyList<TNode> Removed { get; }

    /// <summary>How long building and publishing the new lookup structure took.</summary>
    public TimeSpan RebuildDuration { get; }
}
