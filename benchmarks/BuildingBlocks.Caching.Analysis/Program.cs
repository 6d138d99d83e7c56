using System.Globalization;
using System.Text;
using BuildingBlocks.Caching;
using BuildingBlocks.Caching.Analysis;

// dotnet run -c Release --project benchmarks/BuildingBlocks.Caching.Analysis -- [--only hit-ratio|store-writes|invalidation] [--output FILE] [options]
var settings = new Dictionary<string, string>(StringComparer.Ordinal)
{
    ["requests"] = "1000000",
    ["keys"] = "100000",
    ["skew"] = "0.9",
    ["scan-every"] = "50000",
    ["scan-length"] = "5000",
    ["capacities"] = "1000,10000",
    ["seed"] = "42",
    ["writes"] = "1000000",
    ["write-keys"] = "100000",
    ["write-skew"] = "0.99",
    ["paced-rates"] = "10000,100000,1000000",
    ["large-buffer"] = "200000",
    ["samples"] = "2000",
    ["warmup"] = "200",
};
var only = new HashSet<string>(StringComparer.Ordinal);
string? output = null;
for (int i = 0; i < args.Length; i++)
{
    string name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : "";
    if (i + 1 >= args.Length || (name != "only" && name != "output" && !settings.ContainsKey(name)))
    {
        Console.Error.WriteLine($"Unknown or incomplete argument '{args[i]}'. Options: --only hit-ratio|store-writes|invalidation (repeatable), --output FILE, " +
            string.Join(", ", settings.Select(s => $"--{s.Key} {s.Value}")));
        return 2;
    }

    string value = args[++i];
    switch (name)
    {
        case "only": only.Add(value); break;
        case "output": output = value; break;
        default: settings[name] = value; break;
    }
}

int Int(string name) => int.Parse(settings[name], CultureInfo.InvariantCulture);
double Double(string name) => double.Parse(settings[name], CultureInfo.InvariantCulture);
int[] Ints(string name) => [.. settings[name].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
bool Runs(string part) => only.Count == 0 || only.Contains(part);

var md = new StringBuilder();
md.AppendLine("# Caching: analysis");
md.AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"Produced by `benchmarks/BuildingBlocks.Caching.Analysis` on {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}.");
md.AppendLine();

if (Runs("hit-ratio"))
{
    var trace = new TraceSettings(Int("requests"), Int("keys"), Double("skew"), Int("scan-every"), Int("scan-length"), Int("seed"));
    int[] requests = trace.Build();
    int zipfRequests = requests.Count(k => !trace.IsScan(k));
    md.AppendLine("## Hit ratio: W-TinyLFU against LRU and Belady's optimum");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture,
        $"Trace: {trace.Requests:N0} requests, seed {trace.Seed}. {zipfRequests:N0} are Zipf({trace.Skew.ToString(CultureInfo.InvariantCulture)}) draws over {trace.Keys:N0} keys; every block of {trace.ScanEvery:N0} requests has, in its middle, a scan of {trace.ScanLength:N0} fresh keys (each requested once, never again): {trace.Requests - zipfRequests:N0} scan requests in all, which no policy can hit.");
    md.AppendLine("The cache rows replay the trace through `Cache<int, int>.GetOrLoadAsync` (a request that made the store load is a miss), running W-TinyLFU maintenance after every request so the run is deterministic; the textbook LRU is a linked list and a dictionary; Belady's optimum is computed offline from the whole trace (evict the key needed farthest in the future, or do not admit the new key if it is needed later than all of them).");
    md.AppendLine();
    md.AppendLine("| Capacity | Policy | Hit ratio | Hit ratio on Zipf requests | Points above Cache (Lru) | Points above textbook LRU | Share of Belady's hit ratio | Replay time |");
    md.AppendLine("|--:|---|--:|--:|--:|--:|--:|--:|");
    foreach (int capacity in Ints("capacities"))
    {
        Console.Error.WriteLine($"hit ratio, capacity {capacity:N0} ...");
        HitRatioResult belady = HitRatioAnalysis.ReplayBelady(requests, trace, capacity);
        HitRatioResult frequencyAware = HitRatioAnalysis.ReplayCache(requests, trace, capacity, EvictionPolicy.FrequencyAware);
        HitRatioResult lru = HitRatioAnalysis.ReplayCache(requests, trace, capacity, EvictionPolicy.Lru);
        HitRatioResult rawLfu = HitRatioAnalysis.ReplayBitFaster(requests, trace, capacity, EvictionPolicy.FrequencyAware);
        HitRatioResult rawLru = HitRatioAnalysis.ReplayBitFaster(requests, trace, capacity, EvictionPolicy.Lru);
        HitRatioResult textbook = HitRatioAnalysis.ReplayTextbookLru(requests, trace, capacity);
        foreach (HitRatioResult r in new[] { frequencyAware, lru, rawLfu, rawLru, textbook, belady })
        {
            Console.Error.WriteLine($"  {r.Policy}: {r.HitRatio:P2} ({r.Elapsed.TotalSeconds:F1} s)");
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {capacity:N0} | {r.Policy} | {r.HitRatio:P2} | {r.ZipfHitRatio:P2} | {Points(r, lru)} | {Points(r, textbook)} | {r.HitRatio / belady.HitRatio:P1} | {r.Elapsed.TotalSeconds:F1} s |");
        }

        double lead = (frequencyAware.HitRatio - lru.HitRatio) * 100;
        md.AppendLine(CultureInfo.InvariantCulture,
            $"| | **Target: FrequencyAware ≥ 5 points above Lru** | | | **{lead:+0.00;-0.00} points: {(lead >= 5 ? "met" : "missed")}** | {Points(frequencyAware, textbook)} | | |");
    }

    md.AppendLine();
}

if (Runs("store-writes"))
{
    int writes = Int("writes");
    var zipf = new Zipf(Int("write-keys"), Double("write-skew"), Int("seed"));
    int[] keys = new int[writes];
    for (int i = 0; i < writes; i++)
    {
        keys[i] = zipf.Next();
    }

    int distinct = keys.Distinct().Count();
    md.AppendLine("## Store writes saved by write-back");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture,
        $"{writes:N0} `SetAsync` calls by one writer, keys drawn from Zipf({settings["write-skew"]}) over {Int("write-keys"):N0} keys (seed {Int("seed")}; {distinct:N0} distinct keys written). The store does nothing but count: \"store writes\" is the sum of the batch sizes its `SaveAsync` received, cross-checked against `GetStatistics().StoreWrites`. Write-back runs with the package defaults (FlushInterval 1 s, MaxBatchSize 500, BufferCapacity 100,000; once half the buffer's keys wait, the oldest are flushed early) and the run ends with `FlushAsync`, so every write has reached the store when it is counted. How many writes coalesce depends on how many arrive per FlushInterval and on how many distinct keys wait at once, so the comparison runs unpaced on the real clock (the issue's figure; its count depends on the machine's speed), once more with a larger buffer, and paced on a virtual clock (FakeTimeProvider advanced 1 ms at a time; after each step the run waits until the flusher has written what is due). If every write to a key coalesced into one store write, the store would see {distinct:N0} writes ({1 - ((double)distinct / writes):P2} fewer).");
    md.AppendLine();
    md.AppendLine("| Strategy | Pace | Writes | Store writes (counted by the store) | Store calls | `StoreWrites` statistic | Coalesced | Fewer store writes than write-through | Run time |");
    md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|");
    Console.Error.WriteLine("store writes, unpaced ...");
    var runs = new List<StoreWritesResult>
    {
        await StoreWritesAnalysis.RunUnpacedAsync(keys, WriteStrategy.WriteThrough),
        await StoreWritesAnalysis.RunUnpacedAsync(keys, WriteStrategy.WriteBack),
    };
    if (Int("large-buffer") > 0)
    {
        Console.Error.WriteLine($"store writes, unpaced, BufferCapacity {Int("large-buffer"):N0} ...");
        runs.Add(await StoreWritesAnalysis.RunUnpacedAsync(keys, WriteStrategy.WriteBack, Int("large-buffer")));
    }

    foreach (int rate in Ints("paced-rates"))
    {
        Console.Error.WriteLine($"store writes, paced at {rate:N0}/s ...");
        runs.Add(await StoreWritesAnalysis.RunPacedAsync(keys, WriteStrategy.WriteBack, rate));
    }

    StoreWritesResult headline = runs[1];
    foreach (StoreWritesResult r in runs)
    {
        Console.Error.WriteLine($"  {r.Strategy}, {r.Pace}: {r.StoreWrites:N0} store writes ({r.Saved:P2} fewer), {r.Elapsed.TotalSeconds:F1} s");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"| {r.Strategy} | {r.Pace} | {r.Writes:N0} | {r.StoreWrites:N0} | {r.StoreCalls:N0} | {r.ReportedStoreWrites:N0} | {r.Coalesced:N0} | {r.Saved:P2} | {r.Elapsed.TotalSeconds:F1} s |");
    }

    md.AppendLine(CultureInfo.InvariantCulture,
        $"| **Target: ≥ 90% fewer (unpaced)** | | | | | | | **{headline.Saved:P2}: {(headline.Saved >= 0.90 ? "met" : "missed")}** | |");
    md.AppendLine();
}

if (Runs("invalidation"))
{
    Console.Error.WriteLine("invalidation latency over Redis ...");
    InvalidationResult r = await InvalidationAnalysis.RunAsync(Int("samples"), Int("warmup"), Console.Error);
    md.AppendLine("## Cross-node invalidation over Redis");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture,
        $"Two caches (node A, node B) in this process, each with its own `RedisCacheBackplane` and connection, on redis-server {r.RedisVersion} started for the run on a free loopback port; write-through to one shared in-memory store; no L2. Per sample, node B first loads a fresh key (its L1 holds the old value); then node A calls `SetAsync` with a new value. The first row runs from just before that call until node B's cache has handled the invalidation message (a decorator around B's backplane subscriber takes the time right after the cache's handler returns); the second until A's call returned (store write, A's L1, publish accepted by Redis). {r.Samples:N0} samples after {r.Warmup:N0} warm-up samples; nearest-rank percentiles. Both nodes, Redis and this program share the machine's cores.");
    md.AppendLine();
    md.AppendLine("| Latency | p50 | p90 | p99 | Max | Mean |");
    md.AppendLine("|---|--:|--:|--:|--:|--:|");
    AppendLatency(md, "Write on A → B's L1 no longer holds the old value", r.Invalidated);
    AppendLatency(md, "SetAsync on A returned (write-through + publish)", r.SetAsync);
    md.AppendLine(CultureInfo.InvariantCulture,
        $"| **Target: p99 ≤ 10 ms** | | | **{r.Invalidated.P99:F3} ms: {(r.Invalidated.P99 <= 10 ? "met" : "missed")}** | | |");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"After each invalidation was signalled, node B's `TryGetLocal` still returned the old value {r.StaleAfterSignal} times.");
    md.AppendLine();
}

string markdown = md.ToString();
Console.WriteLine(markdown);
if (output is not null)
{
    await File.WriteAllTextAsync(output, markdown);
    Console.Error.WriteLine($"Written to {output}");
}

return 0;

static string Points(HitRatioResult r, HitRatioResult reference) =>
    ((r.HitRatio - reference.HitRatio) * 100).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);

static void AppendLatency(StringBuilder md, string name, Percentiles p) =>
    md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {p.P50:F3} ms | {p.P90:F3} ms | {p.P99:F3} ms | {p.Max:F3} ms | {p.Mean:F3} ms |");
