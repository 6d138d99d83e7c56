namespace BuildingBlocks.ConsistentHashing;

/// <summary>An immutable member list with a key index; published inside each algorithm's lookup snapshot.</summary>
internal sealed class MemberList<TNode>
{
    public static readonly MemberList<TNode> Empty = new([]);

    public MemberList(RingMember<TNode>[] items)
    {
        Items = items;
        Nodes = new TNode[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            Nodes[i] = items[i].Node;
        }

        View = Array.AsReadOnly(items);
        IndexByKey = new Dictionary<string, int>(items.Length, StringComparer.Ordinal);
        for (int i = 0; i < items.Length; i++)
        {
            IndexByKey.Add(items[i].Key, i);
        }
    }

    public RingMember<TNode>[] Items { get; }

    /// <summary>The nodes in member order: what lookups index into.</summary>
    public TNode[] Nodes { get; }

    public IReadOnlyList<RingMember<TNode>> View { get; }

    public Dictionary<string, int> IndexByKey { get; }
}
