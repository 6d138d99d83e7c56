using System.Diagnostics.CodeAnalysis;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Maps keys to nodes so that a membership change moves only about 1/n of the keys. Every algorithm
/// (<see cref="ConsistentHashAlgorithm"/>) implements this interface, so switching is a configuration change.
/// </summary>
/// <remarks>
/// Lookups never lock and never allocate: a membership change builds a new immutable lookup structure and
/// swaps it in atomically, so a lookup sees either the old or the new membership, never a mix.
/// The same membership gives the same answers in every process, on every machine.
/// </remarks>
/// <typeparam name="TNode">The node type: a server name, an endpoint, a connection, a shard.</typeparam>
public interface IConsistentHash<TNode>
{
    /// <summary>The algorithm behind this instance.</summary>
    ConsistentHashAlgorithm Algorithm { get; }

    /// <summary>The hash applied to keys and node identities.</summary>
    IKeyHasher Hasher { get; }

    /// <summary>The number of nodes.</summary>
    int Count { get; }

    /// <summary>Grows by one on every membership change (not on a <see cref="SetNodes"/> that changes nothing); lets callers cache derived data cheaply.</summary>
    long Version { get; }

    /// <summary>The current members: ordered by key (ordinal), except <see cref="ConsistentHashAlgorithm.Jump"/>, whose order is its bucket order.</summary>
    IReadOnlyList<RingMember<TNode>> Members { get; }

    /// <summary>
    /// Raised after each membership change has been published, on the thread that made it and while the writer
    /// lock is still held, so handlers see changes one at a time and in order. Keep handlers short; do not change
    /// membership from a handler. A <see cref="SetNodes"/> that changes nothing raises no event.
    /// </summary>
    event EventHandler<MembershipChangedEventArgs<TNode>>? MembershipChanged;

    /// <summary>Hashes a string key (its UTF-8 bytes) with <see cref="Hasher"/>.</summary>
    /// <param name="key">The key. Empty is a valid key.</param>
    /// <returns>The key hash to pass to the <see cref="ulong"/> overloads.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    ulong HashKey(string key);

    /// <summary>Hashes a binary key with <see cref="Hasher"/>.</summary>
    /// <param name="key">The key's bytes.</param>
    /// <returns>The key hash.</returns>
    ulong HashKey(ReadOnlySpan<byte> key);

    /// <summary>Returns the node that owns <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The owning node.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="EmptyRingException">There are no nodes.</exception>
    TNode GetNode(string key);

    /// <summary>Returns the node that owns a binary key.</summary>
    /// <param name="key">The key's bytes.</param>
    /// <returns>The owning node.</returns>
    /// <exception cref="EmptyRingException">There are no nodes.</exception>
    TNode GetNode(ReadOnlySpan<byte> key);

    /// <summary>Returns the node that owns a pre-computed key hash (see <see cref="HashKey(string)"/>).</summary>
    /// <param name="keyHash">The key hash.</param>
    /// <returns>The owning node.</returns>
    /// <exception cref="EmptyRingException">There are no nodes.</exception>
    TNode GetNode(ulong keyHash);

    /// <summary>Returns the owner of a key, or false when there are no nodes.</summary>
    /// <param name="key">The key.</param>
    /// <param name="node">The owning node when the method returns true.</param>
    /// <returns>False only when there are no nodes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    bool TryGetNode(string key, [MaybeNullWhen(false)] out TNode node);

    /// <summary>Returns the owner of a key hash, or false when there are no nodes.</summary>
    /// <param name="keyHash">The key hash.</param>
    /// <param name="node">The owning node when the method returns true.</param>
    /// <returns>False only when there are no nodes.</returns>
    bool TryGetNode(ulong keyHash, [MaybeNullWhen(false)] out TNode node);

    /// <summary>
    /// Writes the key's preference list, the first <c>destination.Length</c> distinct nodes in the
    /// algorithm's order, into <paramref name="destination"/>. The first is the owner.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="destination">Where to write; its length is the number of nodes wanted.</param>
    /// <returns>The number written: <c>Math.Min(destination.Length, Count)</c>, so 0 when there are no nodes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    int GetNodes(string key, Span<TNode> destination);

    /// <summary>Writes the preference list of a binary key; see <see cref="GetNodes(string, Span{TNode})"/>.</summary>
    /// <param name="key">The key's bytes.</param>
    /// <param name="destination">Where to write.</param>
    /// <returns>The number written.</returns>
    int GetNodes(ReadOnlySpan<byte> key, Span<TNode> destination);

    /// <summary>Writes the preference list of a key hash; see <see cref="GetNodes(string, Span{TNode})"/>.</summary>
    /// <param name="keyHash">The key hash.</param>
    /// <param name="destination">Where to write.</param>
    /// <returns>The number written.</returns>
    int GetNodes(ulong keyHash, Span<TNode> destination);

    /// <summary>Returns up to <paramref name="count"/> distinct nodes for the key (allocates the array).</summary>
    /// <param name="key">The key.</param>
    /// <param name="count">How many nodes are wanted; fewer are returned when there are fewer nodes.</param>
    /// <returns>The preference list, owner first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    TNode[] GetNodes(string key, int count);

    /// <summary>Whether a node with the same key is a member.</summary>
    /// <param name="node">The node.</param>
    /// <returns>True when a member has the node's key.</returns>
    bool Contains(TNode node);

    /// <summary>Adds a node.</summary>
    /// <param name="node">The node.</param>
    /// <param name="weight">Its relative weight (finite, greater than 0).</param>
    /// <exception cref="DuplicateNodeException">A node with the same key is already a member.</exception>
    /// <exception cref="ArgumentException">The node's key is null, empty or white space.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is not finite or not greater than 0.</exception>
    void Add(TNode node, double weight = 1.0);

    /// <summary>Removes the node with the same key as <paramref name="node"/>.</summary>
    /// <param name="node">The node.</param>
    /// <returns>False when no such node was a member.</returns>
    bool Remove(TNode node);

    /// <summary>
    /// Replaces a member with another node of the same weight in one atomic change. When both have the same key
    /// (new connection, same server) no key moves. With a different key it is Remove then Add as one change: the
    /// old node's keys move and the new node takes its fair share; Jump keeps the bucket, so only the old node's
    /// keys move, all to the replacement.
    /// </summary>
    /// <param name="existing">The member to replace.</param>
    /// <param name="replacement">The node that takes its place.</param>
    /// <exception cref="NodeNotFoundException"><paramref name="existing"/> is not a member.</exception>
    /// <exception cref="DuplicateNodeException"><paramref name="replacement"/> has another member's key.</exception>
    void Replace(TNode existing, TNode replacement);

    /// <summary>Replaces the whole membership in one atomic change (for example from service discovery).</summary>
    /// <param name="nodes">The new members. For <see cref="ConsistentHashAlgorithm.Jump"/> their order is the bucket order.</param>
    /// <exception cref="DuplicateNodeException">Two of <paramref name="nodes"/> share a key.</exception>
    void SetNodes(IEnumerable<WeightedNode<TNode>> nodes);
}
