using System.Globalization;
using BuildingBlocks.ConsistentHashing;
using Microsoft.Extensions.DependencyInjection;
using Showcase.Rendering;

namespace Showcase.Sections;

/// <summary>Consistent hashing: who owns which key, how even the load is, what moves when a node joins.</summary>
internal sealed class ConsistentHashingSection : IShowcaseSection
{
    public string Title => "BuildingBlocks.ConsistentHashing: keys to cache servers on a hash ring";

    public Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        // Registered the way an app would: one call, options validated at start-up, nodes known up front.
        var services = new ServiceCollection();
        services.AddConsistentHashing<CacheServer>(o =>
            {
                o.NodeKeySelector = server => server.Name;
                o.VirtualNodes = 160;
            })
            .WithNode(new CacheServer("cache-a", "10.0.0.1:6379"))
            .WithNode(new CacheServer("cache-b", "10.0.0.2:6379"))
            .WithNode(new CacheServer("cache-c", "10.0.0.3:6379"))
            .WithNode(new CacheServer("cache-d", "10.0.0.4:6379"))
            .WithNode(new CacheServer("cache-big", "10.0.0.5:6379"), weight: 2);
        using ServiceProvider provider = services.BuildServiceProvider();
        var ring = (HashRing<CacheServer>)provider.GetRequiredService<IConsistentHash<CacheServer>>();

        output.WriteLine($"A ring of {ring.Count} servers x {ring.VirtualNodes} virtual nodes ({ring.PointCount:N0} points); cache-big has weight 2.");
        output.WriteLine();
        output.WriteLine("Each key's owner and its 3-server preference list (the owner first, then the replicas):");
        var owners = new Table("Key", "Owner", "Preference list (3)");
        Span<CacheServer> replicas = new CacheServer[3];
        foreach (string key in new[] { "user:42", "user:43", "cart:9f1c", "session:7b21", "product:1001", "product:1002" })
        {
            int n = ring.GetNodes(key, replicas);
            owners.Add(key, ring.GetNode(key).Name, string.Join(", ", replicas[..n].ToArray().Select(s => s.Name)));
        }

        owners.WriteTo(output);

        output.WriteLine("Share of the key space per server (exact arc lengths) and of 100,000 sample keys:");
        const int SampleKeys = 100_000;
        Dictionary<string, string> before = Assign(ring, SampleKeys);
        double[] shares = ring.GetKeyspaceShares();
        var load = new Table("Server", "Weight", "Key-space share", "Sample keys");
        for (int i = 0; i < ring.Members.Count; i++)
        {
            RingMember<CacheServer> member = ring.Members[i];
            load.Add(member.Key, member.Weight.ToString("0.#", CultureInfo.InvariantCulture), shares[i].ToString("P1", CultureInfo.InvariantCulture), before.Values.Count(owner => owner == member.Key).ToString("N0", CultureInfo.InvariantCulture));
        }

        load.WriteTo(output);

        var newcomer = new CacheServer("cache-e", "10.0.0.6:6379");
        ring.Add(newcomer);
        Dictionary<string, string> after = Assign(ring, SampleKeys);
        int moved = before.Count(pair => after[pair.Key] != pair.Value);
        int movedToNewcomer = before.Count(pair => after[pair.Key] != pair.Value && after[pair.Key] == newcomer.Name);

        double idealShare = 1.0 / 7; // the newcomer has weight 1 out of a total weight of 7 after it joins
        output.WriteLine($"cache-e joins: {moved:N0} of {SampleKeys:N0} keys moved ({(double)moved / SampleKeys:P1}; its fair share of the weight is {idealShare:P1}),");
        output.WriteLine($"and {movedToNewcomer:N0} of them moved to cache-e: no key moved between two servers that stayed.");
        output.WriteLine();

        output.WriteLine("The same question for every algorithm behind IConsistentHash<T> (10 nodes, 200,000 keys, 3 trials):");
        var algorithms = new Table("Algorithm", "Peak/mean load", "Moved on add (x ideal)", "Moved on remove (x ideal)", "Stray moves");
        foreach (ConsistentHashAlgorithm algorithm in Enum.GetValues<ConsistentHashAlgorithm>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            DistributionReport r = DistributionAnalyzer.Analyze(new DistributionAnalysisOptions
            {
                Algorithm = algorithm,
                NodeCount = 10,
                KeyCount = 200_000,
                MovementTrials = 3,
            });
            algorithms.Add(algorithm, r.PeakToMean.ToString("F3", CultureInfo.InvariantCulture), r.AddMoveRatio.ToString("F2", CultureInfo.InvariantCulture), r.RemoveMoveRatio.ToString("F2", CultureInfo.InvariantCulture), r.StrayMoves.ToString("P2", CultureInfo.InvariantCulture));
        }

        algorithms.WriteTo(output);
        output.WriteLine("Ring is the default; Maglev trades a little movement for perfect balance; Jump needs no memory but only grows");
        output.WriteLine("or shrinks at the end; bounded load caps every node at 1.25 x the average. See docs/consistent-hashing.md.");
        return Task.CompletedTask;
    }

    private static Dictionary<string, string> Assign(HashRing<CacheServer> ring, int keys)
    {
        var owners = new Dictionary<string, string>(keys, StringComparer.Ordinal);
        for (int i = 0; i < keys; i++)
        {
            string key = "key-" + i.ToString(CultureInfo.InvariantCulture);
            owners[key] = ring.GetNode(key).Name;
        }

        return owners;
    }

    private sealed record CacheServer(string Name, string Endpoint);
}
