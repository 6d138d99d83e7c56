using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using BuildingBlocks.ConsistentHashing;
using Microsoft.Extensions.DependencyInjection;

namespace ConsistentHashing.LoadBalancing;

/// <summary>Sizes of a <see cref="LoadBalancingDemo"/> run.</summary>
public sealed class LoadBalancingDemoOptions
{
    /// <summary>Servers started at the beginning (at least 2). Default 4.</summary>
    public int InitialServers { get; set; } = 4;

    /// <summary>Requests per round (at least <see cref="DistinctIds"/>). Default 2,000.</summary>
    public int Requests { get; set; } = 2_000;

    /// <summary>Distinct request ids; every round sends the same ids in the same order. Default 500.</summary>
    public int DistinctIds { get; set; } = 500;

    /// <summary>Which initial server (1-based) is removed in the second round. Default 2.</summary>
    public int RemovedServer { get; set; } = 2;

    /// <summary>Requests in flight at once. Default 8.</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>Seed of the request order, so runs are repeatable. Default 42.</summary>
    public int Seed { get; set; } = 42;
}

/// <summary>
/// The consistent-hashing load balancer, end to end: starts Kestrel servers on loopback, routes requests to them through
/// the "balanced" HttpClient and <see cref="ConsistentHashingHandler"/>, then removes one server and adds another and
/// measures which ids moved. Servers report who answered; the demo never asks the ring, so the figures are what the
/// HTTP traffic really did.
/// </summary>
/// <param name="options">Sizes of the run; defaults when null.</param>
public sealed class LoadBalancingDemo(LoadBalancingDemoOptions? options = null)
{
    private readonly LoadBalancingDemoOptions _options = options ?? new LoadBalancingDemoOptions();

    /// <summary>Runs the three rounds, writes tables to <paramref name="output"/> and returns the measurements.</summary>
    /// <param name="output">Where the report goes.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The measurements and any broken invariant.</returns>
    public async Task<LoadBalancingResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        Validate(_options);

        var services = new ServiceCollection();
        services.AddConsistentHashingLoadBalancer();
        await using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        IConsistentHash<ServerEndpoint> ring = provider.GetRequiredService<IConsistentHash<ServerEndpoint>>();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(LoadBalancingServiceCollectionExtensions.BalancedClientName);

        string[] requests = BuildRequests(_options);
        var violations = new List<string>();
        var servers = new List<BackendServer>();
        try
        {
            for (int i = 1; i <= _options.InitialServers; i++)
            {
                BackendServer server = await BackendServer.StartAsync(ServerName(i), cancellationToken);
                servers.Add(server);
                ring.Add(server.Endpoint);
            }

            output.WriteLine(Invariant($"Consistent-hashing load balancer: {servers.Count} Kestrel servers on loopback, ring with 160 virtual nodes each"));
            foreach (BackendServer server in servers)
            {
                output.WriteLine($"  {server.Name,-10} {server.Endpoint.Uri}");
            }

            output.WriteLine(Invariant($"Each round sends {_options.Requests:N0} requests for {_options.DistinctIds:N0} distinct ids; half carry X-Request-Id, half rely on the path /work/{{id}}."));
            output.WriteLine();

            RoundReport initial = await RunRoundAsync("Round 1: all servers", client, ring, servers, requests, output, violations, cancellationToken);

            // Remove from the ring first, then stop: no request is routed to a server that is going away.
            BackendServer removed = servers[_options.RemovedServer - 1];
            output.WriteLine($"Removing {removed.Name}: out of the ring, then stopped.");
            ring.Remove(removed.Endpoint);
            await removed.StopAsync(cancellationToken);
            output.WriteLine();

            RoundReport afterRemoval = await RunRoundAsync($"Round 2: without {removed.Name}", client, ring, servers, requests, output, violations, cancellationToken);
            MembershipChangeReport removal = Compare("removed", removed.Name, initial, afterRemoval, initial.Members.Count, violations);
            WriteChange(output, removal, initial);

            BackendServer added = await BackendServer.StartAsync(ServerName(_options.InitialServers + 1), cancellationToken);
            servers.Add(added);
            output.WriteLine($"Adding {added.Name} at {added.Endpoint.Uri}: started, then into the ring.");
            ring.Add(added.Endpoint);
            output.WriteLine();

            RoundReport afterAddition = await RunRoundAsync($"Round 3: with {added.Name}", client, ring, servers, requests, output, violations, cancellationToken);
            MembershipChangeReport addition = Compare("added", added.Name, afterRemoval, afterAddition, afterAddition.Members.Count, violations);
            WriteChange(output, addition, afterRemoval);

            if (violations.Count == 0)
            {
                output.WriteLine("All invariants hold: every id stayed on one server per round, and only the ids the membership change had to move did move.");
            }
            else
            {
                output.WriteLine(Invariant($"{violations.Count} invariant(s) violated:"));
                foreach (string violation in violations)
                {
                    output.WriteLine($"  - {violation}");
                }
            }

            return new LoadBalancingResult(initial, afterRemoval, afterAddition, removal, addition, violations);
        }
        finally
        {
            foreach (BackendServer server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static void Validate(LoadBalancingDemoOptions options)
    {
        if (options.InitialServers < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.InitialServers, "InitialServers must be at least 2: one is removed and one must remain.");
        }

        if (options.DistinctIds < 1 || options.Requests < options.DistinctIds)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Requests, "DistinctIds must be at least 1 and Requests at least DistinctIds, so every id is sent.");
        }

        if (options.RemovedServer < 1 || options.RemovedServer > options.InitialServers)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RemovedServer, "RemovedServer must be between 1 and InitialServers.");
        }

        if (options.Concurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Concurrency, "Concurrency must be at least 1.");
        }
    }

    private static string ServerName(int number) => Invariant($"server-{number}");

    private static string[] BuildRequests(LoadBalancingDemoOptions options)
    {
        // Every id at least once, the rest spread evenly, in a seeded random order: the same list in every round.
        string[] requests = new string[options.Requests];
        for (int i = 0; i < requests.Length; i++)
        {
            requests[i] = Invariant($"id-{i % options.DistinctIds:D4}");
        }

        new Random(options.Seed).Shuffle(requests);
        return requests;
    }

    private async Task<RoundReport> RunRoundAsync(
        string title,
        HttpClient client,
        IConsistentHash<ServerEndpoint> ring,
        List<BackendServer> servers,
        string[] requests,
        TextWriter output,
        List<string> violations,
        CancellationToken cancellationToken)
    {
        string[] members = [.. ring.Members.Select(m => m.Key)];
        Dictionary<string, long> servedBefore = servers.ToDictionary(s => s.Name, s => s.Requests, StringComparer.Ordinal);
        var responses = new ConcurrentBag<WorkResponse>();

        await Parallel.ForEachAsync(
            Enumerable.Range(0, requests.Length),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                string id = requests[index];
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("work/" + Uri.EscapeDataString(id), UriKind.Relative));
                if (index % 2 == 0)
                {
                    request.Headers.Add(ConsistentHashingHandlerOptions.DefaultHeaderName, id);
                }

                using HttpResponseMessage response = await client.SendAsync(request, token);
                response.EnsureSuccessStatusCode();
                WorkResponse body = await response.Content.ReadFromJsonAsync<WorkResponse>(token)
                    ?? throw new InvalidOperationException($"Empty response for id {id}.");
                if (body.Id != id)
                {
                    throw new InvalidOperationException($"Asked for id {id}, {body.Server} answered for {body.Id}.");
                }

                responses.Add(body);
            });

        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        var split = new HashSet<string>(StringComparer.Ordinal);
        foreach (WorkResponse response in responses)
        {
            if (!owners.TryAdd(response.Id, response.Server) && owners[response.Id] != response.Server)
            {
                split.Add(response.Id);
            }
        }

        foreach (string id in split.Order(StringComparer.Ordinal).Take(5))
        {
            violations.Add($"{title}: id {id} was answered by more than one server ({string.Join(", ", responses.Where(r => r.Id == id).Select(r => r.Server).Distinct().Order(StringComparer.Ordinal))}).");
        }

        foreach (WorkResponse response in responses.Where(r => !members.Contains(r.Server)).Take(5))
        {
            violations.Add($"{title}: {response.Server} answered id {response.Id} but is not on the ring.");
        }

        ServerStats[] stats =
        [
            .. responses
                .GroupBy(r => r.Server, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ServerStats(
                    g.Key,
                    g.Count(),
                    g.Select(r => r.Id).Distinct(StringComparer.Ordinal).Count(),
                    g.Count(r => r.CacheHit),
                    (double)g.Count() / requests.Length)),
        ];

        // The servers' own counters must agree with what the client saw.
        foreach (BackendServer server in servers)
        {
            long served = server.Requests - servedBefore[server.Name];
            int seen = stats.FirstOrDefault(s => s.Server == server.Name)?.Requests ?? 0;
            if (served != seen)
            {
                violations.Add(Invariant($"{title}: {server.Name} counted {served} requests, the client saw {seen}."));
            }
        }

        if (responses.Count != requests.Length)
        {
            violations.Add(Invariant($"{title}: sent {requests.Length} requests, got {responses.Count} answers."));
        }

        var report = new RoundReport(title, members, stats, owners, split.Count);
        WriteTable(output, report);
        return report;
    }

    private static MembershipChangeReport Compare(string change, string server, RoundReport before, RoundReport after, int idealDivisor, List<string> violations)
    {
        var movedTo = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var strays = new List<StrayMove>();
        int moved = 0;
        foreach ((string id, string from) in before.Owners.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            if (!after.Owners.TryGetValue(id, out string? to) || to == from)
            {
                continue;
            }

            moved++;
            movedTo[to] = movedTo.GetValueOrDefault(to) + 1;

            // Removing a server may move only that server's ids; adding one may move ids only onto it.
            bool explained = change == "removed" ? from == server : to == server;
            if (!explained)
            {
                strays.Add(new StrayMove(id, from, to));
            }
        }

        if (change == "removed" && after.Owners.Values.Contains(server))
        {
            violations.Add($"{server} was removed but still answered requests.");
        }

        foreach (StrayMove stray in strays.Take(5))
        {
            violations.Add($"After {server} was {change}, id {stray.Id} moved from {stray.From} to {stray.To}; " +
                (change == "removed" ? "both servers stayed, so it should not have moved." : $"it should have stayed or moved to {server}."));
        }

        if (strays.Count > 5)
        {
            violations.Add(Invariant($"... and {strays.Count - 5} more stray moves after {server} was {change}."));
        }

        return new MembershipChangeReport(change, server, before.Owners.Count, moved, 1.0 / idealDivisor, movedTo, strays);
    }

    private static void WriteTable(TextWriter output, RoundReport report)
    {
        output.WriteLine(report.Title);
        output.WriteLine($"{"Server",-10} {"Requests",8} {"Distinct ids",12} {"Cache hits",10} {"Share",7}");
        output.WriteLine(new string('-', 51));
        foreach (ServerStats s in report.Servers)
        {
            output.WriteLine(Invariant($"{s.Server,-10} {s.Requests,8:N0} {s.DistinctIds,12:N0} {s.CacheHits,10:N0} {Percent(s.Share),7}"));
        }

        output.WriteLine(new string('-', 51));
        double total = report.Servers.Sum(s => s.Share);
        output.WriteLine(Invariant($"{"Total",-10} {report.Requests,8:N0} {report.Owners.Count,12:N0} {report.Servers.Sum(s => s.CacheHits),10:N0} {Percent(total),7}"));
        output.WriteLine();
    }

    private static void WriteChange(TextWriter output, MembershipChangeReport change, RoundReport before)
    {
        int n = (int)Math.Round(1 / change.IdealFraction);
        output.WriteLine(Invariant($"Moved after {change.Server} was {change.Change}: {change.MovedIds:N0} of {change.DistinctIds:N0} ids ({Percent(change.MovedFraction)}); ideal 1/{n} = {Percent(change.IdealFraction)}."));
        if (change.Change == "removed")
        {
            int owned = before.Owners.Values.Count(s => s == change.Server);
            output.WriteLine(Invariant($"  {change.Server} owned {owned:N0} ids; they went to {Describe(change.MovedTo)}."));
            output.WriteLine(Invariant($"  Ids that moved between two servers that both stayed: {change.StrayMoves.Count}."));
        }
        else
        {
            output.WriteLine(Invariant($"  Moved to {change.Server}: {change.MovedTo.GetValueOrDefault(change.Server):N0}; moved anywhere else: {change.StrayMoves.Count}."));
        }

        output.WriteLine();
    }

    private static string Describe(IReadOnlyDictionary<string, int> counts) =>
        counts.Count == 0 ? "nowhere" : string.Join(", ", counts.Select(c => Invariant($"{c.Key} {c.Value:N0}")));

    private static string Percent(double fraction) => (fraction * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
