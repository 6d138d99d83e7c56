namespace ConsistentHashing.LoadBalancing;

/// <summary>What <see cref="LoadBalancingDemo.RunAsync"/> measured.</summary>
/// <param name="Initial">The first round, on the initial servers.</param>
/// <param name="AfterRemoval">The same requests after one server was stopped and removed from the ring.</param>
/// <param name="AfterAddition">The same requests after a new server was started and added.</param>
/// <param name="Removal">Which ids moved when the server was removed.</param>
/// <param name="Addition">Which ids moved when the server was added.</param>
/// <param name="Violations">Broken invariants, in plain words; empty on success.</param>
public sealed record LoadBalancingResult(
    RoundReport Initial,
    RoundReport AfterRemoval,
    RoundReport AfterAddition,
    MembershipChangeReport Removal,
    MembershipChangeReport Addition,
    IReadOnlyList<string> Violations)
{
    /// <summary>Whether every invariant held.</summary>
    public bool Succeeded => Violations.Count == 0;
}

/// <summary>One round of requests over a fixed membership.</summary>
/// <param name="Title">What the round shows.</param>
/// <param name="Members">The ring members during the round, by name.</param>
/// <param name="Servers">Per-server figures, by name.</param>
/// <param name="Owners">For each id, the server that answered it (the first one, should several have).</param>
/// <param name="SplitIds">Ids answered by more than one server in the round; 0 when routing is consistent.</param>
public sealed record RoundReport(
    string Title,
    IReadOnlyList<string> Members,
    IReadOnlyList<ServerStats> Servers,
    IReadOnlyDictionary<string, string> Owners,
    int SplitIds)
{
    /// <summary>Requests sent in the round.</summary>
    public int Requests => Servers.Sum(s => s.Requests);
}

/// <summary>One server's figures for a round.</summary>
/// <param name="Server">The server name.</param>
/// <param name="Requests">Requests it answered.</param>
/// <param name="DistinctIds">Distinct ids it answered.</param>
/// <param name="CacheHits">Requests whose id it had already served (in this or an earlier round).</param>
/// <param name="Share">Its fraction of the round's requests, 0 to 1.</param>
public sealed record ServerStats(string Server, int Requests, int DistinctIds, int CacheHits, double Share);

/// <summary>The ids that changed server across one membership change.</summary>
/// <param name="Change">"removed" or "added".</param>
/// <param name="Server">The server that left or joined.</param>
/// <param name="DistinctIds">Ids compared.</param>
/// <param name="MovedIds">Ids answered by a different server than in the round before.</param>
/// <param name="IdealFraction">The share consistent hashing should move: 1/n, n being the larger of the two memberships.</param>
/// <param name="MovedTo">Where the moved ids went: server name to count.</param>
/// <param name="StrayMoves">Moves the change does not explain: between two servers that both stayed, or (on add) not to the new server. Must be empty.</param>
public sealed record MembershipChangeReport(
    string Change,
    string Server,
    int DistinctIds,
    int MovedIds,
    double IdealFraction,
    IReadOnlyDictionary<string, int> MovedTo,
    IReadOnlyList<StrayMove> StrayMoves)
{
    /// <summary>The fraction of ids that moved, 0 to 1.</summary>
    public double MovedFraction => DistinctIds == 0 ? 0 : (double)MovedIds / DistinctIds;
}

/// <summary>An id that moved although the membership change should not have moved it.</summary>
/// <param name="Id">The request id.</param>
/// <param name="From">Its server before the change.</param>
/// <param name="To">Its server after the change.</param>
public sealed record StrayMove(string Id, string From, string To);
