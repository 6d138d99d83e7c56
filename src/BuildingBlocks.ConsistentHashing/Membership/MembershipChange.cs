namespace BuildingBlocks.ConsistentHashing;

internal enum MembershipChangeKind
{
    Reset,
    Add,
    Remove,
    Replace,
}

/// <summary>One membership change, already applied to the member list; algorithms rebuild their lookup from it.</summary>
internal readonly struct MembershipChange<TNode>
{
    public MembershipChange(MembershipChangeKind kind, RingMember<TNode>[] oldMembers, RingMember<TNode>[] newMembers, int removedIndex, int addedIndex)
    {
        Kind = kind;
        OldMembers = oldMembers;
        NewMembers = newMembers;
        RemovedIndex = removedIndex;
        AddedIndex = addedIndex;
    }

    public MembershipChangeKind Kind { get; }

    public RingMember<TNode>[] OldMembers { get; }

    /// <summary>The members after the change, in the algorithm's order.</summary>
    public RingMember<TNode>[] NewMembers { get; }

    /// <summary>Index in <see cref="OldMembers"/> of the member that left (Remove, Replace), else -1.</summary>
    public int RemovedIndex { get; }

    /// <summary>Index in <see cref="NewMembers"/> of the member that joined (Add, Replace), else -1.</summary>
    public int AddedIndex { get; }
}
