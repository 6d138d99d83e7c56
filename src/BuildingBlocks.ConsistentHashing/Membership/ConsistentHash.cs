using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// The membership half shared by every algorithm: validation, one writer at a time, an immutable member
/// list swapped atomically, versioning and change events. Derived types own their lookup structure.
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
public abstract class ConsistentHash<TNode> : IConsistentHash<TNode>
{
    private readonly Lock _writeLock = new();
    private readonly Func<TNode, string> _keyOf;
    private readonly bool _isXxHash3;
    private long _version;

    private protected ConsistentHash(ConsistentHashOptions<TNode> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptionsResult result = ConsistentHashOptionsValidator<TNode>.Validate(Options.DefaultName, options, Algorithm);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ConsistentHashOptions<TNode>), result.Failures);
        }

        Hasher = options.KeyHasher ?? KeyHashing.Resolve(options.KeyHash);
        _isXxHash3 = ReferenceEquals(Hasher, XxHash3KeyHasher.Instance);
        _keyOf = options.NodeKeySelector ?? StringIdentity();
    }

    /// <inheritdoc />
    public event EventHandler<MembershipChangedEventArgs<TNode>>? MembershipChanged;

    /// <inheritdoc />
    public abstract ConsistentHashAlgorithm Algorithm { get; }

    /// <inheritdoc />
    public IKeyHasher Hasher { get; }

    /// <inheritdoc />
    public int Count => PublishedMembers.Items.Length;

    /// <inheritdoc />
    public long Version => Interlocked.Read(ref _version);

    /// <inheritdoc />
    public IReadOnlyList<RingMember<TNode>> Members => PublishedMembers.View;

    /// <summary>The members published with the current lookup snapshot, so both always agree.</summary>
    private protected abstract MemberList<TNode> PublishedMembers { get; }

    /// <summary>Whether members are kept in key order (all but Jump, whose order is its bucket order).</summary>
    private protected virtual bool OrdersMembersByKey => true;

    /// <summary>Whether weights other than 1 are accepted.</summary>
    private protected virtual bool SupportsWeights => true;

    /// <inheritdoc />
    public ulong HashKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return KeyHashing.HashString(Hasher, key);
    }

    /// <inheritdoc />
    // The default hasher is called directly: one interface dispatch less on every lookup.
    public ulong HashKey(ReadOnlySpan<byte> key) => _isXxHash3 ? XxHash3.HashToUInt64(key) : Hasher.Hash(key);

    /// <inheritdoc />
    public virtual TNode GetNode(string key) => GetNode(HashKey(key));

    /// <inheritdoc />
    public virtual TNode GetNode(ReadOnlySpan<byte> key) => GetNode(HashKey(key));

    /// <inheritdoc />
    public virtual TNode GetNode(ulong keyHash)
    {
        if (!TryGetNode(keyHash, out TNode? node))
        {
            ThrowEmpty();
        }

        return node;
    }

    /// <inheritdoc />
    public bool TryGetNode(string key, [MaybeNullWhen(false)] out TNode node) => TryGetNode(HashKey(key), out node);

    /// <inheritdoc />
    public abstract bool TryGetNode(ulong keyHash, [MaybeNullWhen(false)] out TNode node);

    /// <inheritdoc />
    public int GetNodes(string key, Span<TNode> destination) => GetNodes(HashKey(key), destination);

    /// <inheritdoc />
    public int GetNodes(ReadOnlySpan<byte> key, Span<TNode> destination) => GetNodes(HashKey(key), destination);

    /// <inheritdoc />
    public abstract int GetNodes(ulong keyHash, Span<TNode> destination);

    /// <inheritdoc />
    public TNode[] GetNodes(string key, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ulong hash = HashKey(key);
        var result = new TNode[Math.Min(count, Count)];
        int written = GetNodes(hash, result);
        return written == result.Length ? result : result[..written];
    }

    /// <inheritdoc />
    public bool Contains(TNode node) => PublishedMembers.IndexByKey.ContainsKey(KeyOf(node, nameof(node)));

    /// <inheritdoc />
    public void Add(TNode node, double weight = 1.0)
    {
        RingMember<TNode> member = CreateMember(node, weight, nameof(node));
        lock (_writeLock)
        {
            MemberList<TNode> current = PublishedMembers;
            if (current.IndexByKey.ContainsKey(member.Key))
            {
                throw new DuplicateNodeException(member.Key, nameof(node));
            }

            RingMember<TNode>[] next;
            int addedIndex;
            if (OrdersMembersByKey)
            {
                addedIndex = ~Array.BinarySearch(current.Items, member, MemberKeyComparer.Instance);
                next = Insert(current.Items, addedIndex, member);
            }
            else
            {
                addedIndex = current.Items.Length;
                next = Insert(current.Items, addedIndex, member);
            }

            Publish(new MembershipChange<TNode>(MembershipChangeKind.Add, current.Items, next, -1, addedIndex), [node], []);
        }
    }

    /// <inheritdoc />
    public bool Remove(TNode node)
    {
        string key = KeyOf(node, nameof(node));
        lock (_writeLock)
        {
            MemberList<TNode> current = PublishedMembers;
            if (!current.IndexByKey.TryGetValue(key, out int index))
            {
                return false;
            }

            RingMember<TNode>[] next;
            if (OrdersMembersByKey || index == current.Items.Length - 1)
            {
                next = RemoveAt(current.Items, index);
            }
            else
            {
                // Bucket order: the last bucket moves into the freed slot, so only two buckets' keys move.
                next = RemoveAt(current.Items, current.Items.Length - 1);
                next[index] = current.Items[^1];
            }

            Publish(new MembershipChange<TNode>(MembershipChangeKind.Remove, current.Items, next, index, -1), [], [current.Items[index].Node]);
            return true;
        }
    }

    /// <inheritdoc />
    public void Replace(TNode existing, TNode replacement)
    {
        string existingKey = KeyOf(existing, nameof(existing));
        string replacementKey = KeyOf(replacement, nameof(replacement));
        lock (_writeLock)
        {
            MemberList<TNode> current = PublishedMembers;
            if (!current.IndexByKey.TryGetValue(existingKey, out int removedIndex))
            {
                throw new NodeNotFoundException(existingKey, "replace a node");
            }

            if (!string.Equals(existingKey, replacementKey, StringComparison.Ordinal) && current.IndexByKey.ContainsKey(replacementKey))
            {
                throw new DuplicateNodeException(replacementKey, nameof(replacement));
            }

            var member = new RingMember<TNode>(replacementKey, replacement, current.Items[removedIndex].Weight);
            RingMember<TNode>[] next = RemoveAt(current.Items, removedIndex);
            int addedIndex = OrdersMembersByKey ? ~Array.BinarySearch(next, member, MemberKeyComparer.Instance) : removedIndex;
            next = Insert(next, addedIndex, member);
            Publish(new MembershipChange<TNode>(MembershipChangeKind.Replace, current.Items, next, removedIndex, addedIndex), [replacement], [existing]);
        }
    }

    /// <inheritdoc />
    public void SetNodes(IEnumerable<WeightedNode<TNode>> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var members = new List<RingMember<TNode>>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (WeightedNode<TNode> node in nodes)
        {
            RingMember<TNode> member = CreateMember(node.Node, node.Weight, nameof(nodes));
            if (!keys.Add(member.Key))
            {
                throw new DuplicateNodeException(member.Key, nameof(nodes));
            }

            members.Add(member);
        }

        RingMember<TNode>[] next = [.. members];
        if (OrdersMembersByKey)
        {
            Array.Sort(next, MemberKeyComparer.Instance);
        }

        lock (_writeLock)
        {
            MemberList<TNode> current = PublishedMembers;
            if (SameMembers(current.Items, next))
            {
                return; // nothing changed: no rebuild, no new version, no event
            }

            TNode[] added = [.. next.Where(m => !current.IndexByKey.ContainsKey(m.Key)).Select(m => m.Node)];
            TNode[] removed = [.. current.Items.Where(m => !keys.Contains(m.Key)).Select(m => m.Node)];
            Publish(new MembershipChange<TNode>(MembershipChangeKind.Reset, current.Items, next, -1, -1), added, removed);
        }
    }

    /// <summary>
    /// Builds the lookup structure for <paramref name="change"/> and publishes it together with
    /// <paramref name="members"/> in one volatile write; called under the write lock. Throwing leaves
    /// the previous snapshot in place.
    /// </summary>
    private protected abstract void Rebuild(in MembershipChange<TNode> change, MemberList<TNode> members);

    /// <summary>Adds the initial members; derived constructors call it once their own fields are set.</summary>
    private protected void Initialize(IList<WeightedNode<TNode>> nodes)
    {
        if (nodes.Count > 0)
        {
            SetNodes(nodes);
        }
    }

    [DoesNotReturn]
    private protected static void ThrowEmpty() => throw new EmptyRingException();

    private static Func<TNode, string> StringIdentity() => (Func<TNode, string>)(object)(Func<string, string>)(static s => s);

    private protected string KeyOf(TNode node, string paramName)
    {
        if (node is null)
        {
            throw new ArgumentNullException(paramName);
        }

        string? key = _keyOf(node);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException(NodeKeyProblem(node, key), paramName);
        }

        return key;
    }

    internal static string NodeKeyProblem(TNode node, string? key) => typeof(TNode) == typeof(string)
        ? "A node must be a non-empty, non-white-space string: it is the node's key."
        : $"NodeKeySelector returned {(key is null ? "null" : "an empty or white-space key")} for node '{node}'. Every node needs a non-empty, stable key.";

    private RingMember<TNode> CreateMember(TNode node, double weight, string paramName)
    {
        string key = KeyOf(node, paramName);
        if (!double.IsFinite(weight) || weight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"The weight of node '{key}' must be finite and greater than 0.");
        }

        if (!SupportsWeights && weight != 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"The {Algorithm} algorithm does not support weights (node '{key}'); use Ring, Rendezvous or Maglev for weighted nodes.");
        }

        return new RingMember<TNode>(key, node, weight);
    }

    private void Publish(in MembershipChange<TNode> change, IReadOnlyList<TNode> added, IReadOnlyList<TNode> removed)
    {
        using Activity? activity = ConsistentHashingDiagnostics.ActivitySource.StartActivity(ConsistentHashingDiagnostics.MembershipChangeActivity);
        activity?.SetTag(ConsistentHashingDiagnostics.AlgorithmTag, Algorithm.ToString());
        activity?.SetTag("buildingblocks.consistent_hashing.change", change.Kind.ToString());
        activity?.SetTag("buildingblocks.consistent_hashing.nodes", change.NewMembers.Length);

        long started = Stopwatch.GetTimestamp();
        Rebuild(change, new MemberList<TNode>(change.NewMembers));
        long version = Interlocked.Increment(ref _version);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        activity?.SetTag("buildingblocks.consistent_hashing.version", version);
        MembershipChanged?.Invoke(this, new MembershipChangedEventArgs<TNode>(version, change.NewMembers.Length, added, removed, elapsed));
    }

    private static bool SameMembers(RingMember<TNode>[] current, RingMember<TNode>[] next)
    {
        if (current.Length != next.Length)
        {
            return false;
        }

        for (int i = 0; i < current.Length; i++)
        {
            if (!string.Equals(current[i].Key, next[i].Key, StringComparison.Ordinal)
                || current[i].Weight != next[i].Weight
                || !EqualityComparer<TNode>.Default.Equals(current[i].Node, next[i].Node))
            {
                return false;
            }
        }

        return true;
    }

    private static RingMember<TNode>[] Insert(RingMember<TNode>[] items, int index, RingMember<TNode> member)
    {
        var next = new RingMember<TNode>[items.Length + 1];
        Array.Copy(items, 0, next, 0, index);
        next[index] = member;
        Array.Copy(items, index, next, index + 1, items.Length - index);
        return next;
    }

    private static RingMember<TNode>[] RemoveAt(RingMember<TNode>[] items, int index)
    {
        var next = new RingMember<TNode>[items.Length - 1];
        Array.Copy(items, 0, next, 0, index);
        Array.Copy(items, index + 1, next, index, items.Length - index - 1);
        return next;
    }

    private sealed class MemberKeyComparer : IComparer<RingMember<TNode>>
    {
        public static readonly MemberKeyComparer Instance = new();

        public int Compare(RingMember<TNode>? x, RingMember<TNode>? y) => string.CompareOrdinal(x!.Key, y!.Key);
    }
}
