using System.Diagnostics;
using BuildingBlocks.Caching.IntegrationTests.Support;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Caching.IntegrationTests.TwoNodes;

/// <summary>
/// Redis (L2 and backplane) goes away under two running nodes and comes back on the same port, empty: the nodes keep
/// reading and writing through L1 and the store, count the failures, lose nothing acknowledged, and once Redis is back
/// they revalidate and see each other's writes again. Each test runs a Redis server of its own.
/// </summary>
public sealed class RedisOutageTests : TwoNodeTestBase
{
    private const int WrittenOnA = 10;

    public static TheoryData<string> Outages => ["stop", "kill"];

    [Theory(Timeout = 240_000)]
    [MemberData(nameof(Outages))]
    public async Task RedisDown_NodesKeepServingFromL1AndTheStore_LoseNothing_AndRevalidateWhenItIsBack(string outage)
    {
        await using RedisServer server = await RedisServer.StartAsync(Cancellation);

        // Fail fast while Redis is down: StackExchange.Redis's own timeouts and the cache's L2/backplane budget.
        string redis = $"{server.ConnectionString},abortConnect=false,connectTimeout=2000,asyncTimeout=1000,syncTimeout=1000";
        var store = new SharedProductStore();
        for (int key = 1; key <= 20; key++)
        {
            store.Put(Product.Of(key, 1));
        }

        (CacheNode a, CacheNode b) = await StartPairAsync(
            redis,
            store,
            Options(
                o => o.WriteThrough(),
                o =>
                {
                    o.DistributedTimeout = TimeSpan.FromMilliseconds(300);
                    o.DistributedCircuitBreakDuration = TimeSpan.FromSeconds(1);
                }));
        await using (a)
        await using (b)
        {
            for (int key = 1; key <= WrittenOnA; key++)
            {
                Assert.Equal(1, await RevisionAsync(b, key));
                Assert.Equal(1, await RevisionAsync(a, key));
            }

            long failuresOfA = a.Statistics.DistributedFailures;
            long failuresOfB = b.Statistics.DistributedFailures;

            if (outage == "stop")
            {
                await server.StopAsync(Cancellation);
            }
            else
            {
                await server.KillAsync(Cancellation);
            }

            // Writes on both nodes are acknowledged without Redis...
            var acknowledged = new Dictionary<int, long>();
            var elapsed = Stopwatch.StartNew();
            for (int key = 1; key <= WrittenOnA; key++)
            {
                await a.Cache.SetAsync(key, Product.Of(key, 2), Cancellation);
                acknowledged[key] = 2;
            }

            for (int key = 16; key <= 18; key++)
            {
                await b.Cache.SetAsync(key, Product.Of(key, 2), Cancellation);
                acknowledged[key] = 2;
            }

            Log($"{outage}: {acknowledged.Count} write-through writes with Redis down took {Ms(elapsed.Elapsed)}");

            // ...reads are served by L1 (their own writes) and by the store (keys never read before)...
            for (int key = 1; key <= WrittenOnA; key++)
            {
                Assert.Equal(2, await RevisionAsync(a, key));
            }

            for (int key = 11; key <= 15; key++)
            {
                Assert.Equal(1, await RevisionAsync(b, key));
                Assert.Equal(1, await RevisionAsync(a, key));
            }

            for (int key = 16; key <= 18; key++)
            {
                Assert.Equal(2, await RevisionAsync(b, key));
            }

            // ...the failures are counted, and the store has every acknowledged write.
            Assert.True(a.Statistics.DistributedFailures > failuresOfA, Describe(a, b));
            Assert.True(b.Statistics.DistributedFailures > failuresOfB, Describe(a, b));
            foreach ((int key, long revision) in acknowledged)
            {
                Assert.Equal(revision, store.Get(key)?.Revision);
            }

            // Redis comes back (empty, on the same port): node B finds out it may have missed invalidations and
            // drops its L1, so the writes A made during the outage are what B reads now.
            long revalidationsBefore = b.Statistics.Revalidations;
            await server.StartAgainAsync(Cancellation);
            TimeSpan revalidated = await Eventually.HoldsAsync(
                () => b.Statistics.Revalidations > revalidationsBefore, Eventually.Reconnection, () => "node B did not revalidate after Redis came back. " + Describe(a, b), Cancellation);
            Log($"{outage}: node B revalidated {Ms(revalidated)} after Redis answered again");
            for (int key = 1; key <= WrittenOnA; key++)
            {
                Assert.Equal(2, await RevisionAsync(b, key));
            }

            for (int key = 16; key <= 18; key++)
            {
                Assert.Equal(2, await RevisionAsync(a, key));
            }

            // Invalidations flow again: new writes on A reach B. First both nodes' L2 must answer again: a write on A
            // while A's L2 circuit is still open leaves the older value in L2 for B to read (a bug of its own, shown
            // deterministically by CrossNodeInvalidationTests.WriteOnA_WhileAsL2CircuitIsOpen_...).
            await WaitUntilL2AnswersAsync(a, b);
            await WaitUntilL2AnswersAsync(b, a);
            long receivedBefore = b.Statistics.InvalidationsReceived;
            for (int key = 1; key <= WrittenOnA; key++)
            {
                await a.Cache.SetAsync(key, Product.Of(key, 3), Cancellation);
            }

            for (int key = 1; key <= WrittenOnA; key++)
            {
                int k = key;
                await Eventually.HoldsAsync(async () => await RevisionAsync(b, k) == 3, Eventually.Reconnection, () => $"key {k} on node B: r{LocalRevision(b, k)}. {Describe(a, b)}", Cancellation);
                Assert.Equal(3, store.Get(key)?.Revision);
            }

            Assert.True(b.Statistics.InvalidationsReceived > receivedBefore || b.Statistics.Revalidations > revalidationsBefore + 1, Describe(a, b));
            Log($"{outage}: after the outage — A {a.Statistics}; B {b.Statistics}");
        }
    }

    /// <summary>
    /// Waits until an L2 read of <paramref name="node"/> succeeds at a moment its circuit is closed (a circuit opened by
    /// the last failure closes after the one-second break: each probe comes later than that).
    /// </summary>
    private static async Task WaitUntilL2AnswersAsync(CacheNode node, CacheNode other)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1_200), Cancellation);
            long failures = node.Statistics.DistributedFailures;
            _ = await node.Cache.GetAsync(-1, Cancellation);
            if (node.Statistics.DistributedFailures == failures)
            {
                return;
            }

            Assert.True(waited.Elapsed < Eventually.Reconnection, $"node {node.Name}'s L2 did not answer again within {Eventually.Reconnection}. {Describe(node, other)}");
        }
    }
}
