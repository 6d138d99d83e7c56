using System.Diagnostics;
using BuildingBlocks.Caching.IntegrationTests.Support;
using BuildingBlocks.Caching.Redis;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Caching.IntegrationTests.TwoNodes;

/// <summary>
/// Two nodes (two hosts) with L2 = Redis <c>IDistributedCache</c> and the Redis backplane over one shared store: a write
/// on one node reaches the other node's readers, whatever the strategy, and never leaves a stale value behind.
/// </summary>
public sealed class CrossNodeInvalidationTests(RedisFixture redis) : TwoNodeTestBase
{
    [Fact(Timeout = 120_000)]
    public async Task WriteThrough_OnNodeA_DropsTheKeyFromNodeBsL1_AndNodeBReadsTheNewValue()
    {
        var store = new SharedProductStore();
        store.Put(Product.Of(1, 1));
        (CacheNode a, CacheNode b) = await StartPairAsync(redis.ConnectionString, store, Options(o => o.WriteThrough()));
        await using (a)
        await using (b)
        {
            Assert.Equal(1, await RevisionAsync(b, 1));
            Assert.Equal(1, LocalRevision(b, 1));

            await a.Cache.SetAsync(1, Product.Of(1, 2), Cancellation);
            Assert.Equal(2, store.Get(1)?.Revision);

            TimeSpan latency = await Eventually.HoldsAsync(() => LocalRevision(b, 1) != 1, Eventually.Soon, () => Describe(a, b), Cancellation);
            Log($"write-through: node B's L1 dropped the key {Ms(latency)} after node A's SetAsync returned");

            Assert.Equal(2, await RevisionAsync(b, 1));
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal(2, await RevisionAsync(b, 1));
            }

            Assert.True(a.Statistics.InvalidationsSent >= 1, Describe(a, b));
            Assert.True(b.Statistics.InvalidationsReceived >= 1, Describe(a, b));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task WriteAround_OnNodeA_DropsTheKeyFromNodeBsL1_AndNodeBLoadsTheNewValueFromTheStore()
    {
        var store = new SharedProductStore();
        store.Put(Product.Of(1, 1));
        (CacheNode a, CacheNode b) = await StartPairAsync(redis.ConnectionString, store, Options(o => o.WriteAround()));
        await using (a)
        await using (b)
        {
            Assert.Equal(1, await RevisionAsync(b, 1));
            Assert.Equal(1, await RevisionAsync(a, 1));
            int loadsBefore = store.LoadsOf(1);

            await a.Cache.SetAsync(1, Product.Of(1, 2), Cancellation);
            Assert.Equal(2, store.Get(1)?.Revision);
            Assert.Null(LocalRevision(a, 1));

            TimeSpan latency = await Eventually.HoldsAsync(() => LocalRevision(b, 1) is null, Eventually.Soon, () => Describe(a, b), Cancellation);
            Log($"write-around: node B's L1 dropped the key {Ms(latency)} after node A's SetAsync returned");

            // L2 was cleared by the write: the next read goes to the store.
            Assert.Equal(2, await RevisionAsync(b, 1));
            Assert.Equal(loadsBefore + 1, store.LoadsOf(1));
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal(2, await RevisionAsync(b, 1));
                Assert.Equal(2, await RevisionAsync(a, 1));
            }

            Assert.True(b.Statistics.InvalidationsReceived >= 1, Describe(a, b));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task WriteBack_OnNodeA_ReachesNodeB_OnceFlushed()
    {
        var store = new SharedProductStore();
        store.Put(Product.Of(1, 1));
        (CacheNode a, CacheNode b) = await StartPairAsync(
            redis.ConnectionString,
            store,
            Options(o => o.WriteBack(wb => wb.FlushInterval = TimeSpan.FromMinutes(10))));
        await using (a)
        await using (b)
        {
            Assert.Equal(1, await RevisionAsync(b, 1));

            await a.Cache.SetAsync(1, Product.Of(1, 2), Cancellation);

            // Not in the store yet: node A reads its own write, node B still has what the store has.
            Assert.Equal(2, await RevisionAsync(a, 1));
            Assert.Equal(1, store.Get(1)?.Revision);
            Assert.Equal(1, a.Statistics.PendingWrites);
            Assert.Equal(1, LocalRevision(b, 1));

            await a.Cache.FlushAsync(Cancellation);
            Assert.Equal(2, store.Get(1)?.Revision);

            TimeSpan latency = await Eventually.HoldsAsync(() => LocalRevision(b, 1) != 1, Eventually.Soon, () => Describe(a, b), Cancellation);
            Log($"write-back: node B's L1 dropped the key {Ms(latency)} after node A's FlushAsync returned");
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal(2, await RevisionAsync(b, 1));
            }

            Assert.Equal(0, a.Statistics.PendingWrites);
            Assert.True(b.Statistics.InvalidationsReceived >= 1, Describe(a, b));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task NodeB_ReadingAKeyNodeALoaded_GetsItFromL2_WithoutLoadingTheStore()
    {
        var store = new SharedProductStore();
        store.Put(Product.Of(7, 1));
        (CacheNode a, CacheNode b) = await StartPairAsync(redis.ConnectionString, store, Options(o => o.WriteThrough()));
        await using (a)
        await using (b)
        {
            Assert.Equal(1, await RevisionAsync(a, 7));
            Assert.Equal(1, store.LoadsOf(7));

            Assert.Equal(1, await RevisionAsync(b, 7));
            Assert.Equal(1, store.LoadsOf(7));
            Assert.Equal(1, b.Statistics.L2Hits);
            Assert.Equal(0, b.Statistics.StoreLoads);
            Assert.Equal(1, LocalRevision(b, 7));

            // A write only clears L2 (two nodes' L2 sets could land out of order): B's first read of a key written on
            // A loads the store once and refills L2, so A's next read of it after an invalidation is an L2 hit.
            await a.Cache.SetAsync(8, Product.Of(8, 5), Cancellation);
            Assert.Equal(5, await RevisionAsync(b, 8));
            Assert.Equal(1, store.LoadsOf(8));
            Assert.Equal(1, b.Statistics.L2Hits);
            Assert.Equal(1, b.Statistics.StoreLoads);
        }
    }

    public static TheoryData<string> Strategies => ["write-through", "write-around", "write-back"];

    /// <summary>
    /// Node A writes every key many times while node B keeps reading them (loads slowed down at random, so loads on B
    /// overlap writes on A); once A is done (and flushed), B must end up with the last value of every key, from L1,
    /// L2 or the store, and keep it.
    /// </summary>
    [Theory(Timeout = 180_000)]
    [MemberData(nameof(Strategies))]
    public async Task ConcurrentWritesOnA_WhileBReads_BEndsWithTheLastValueOfEveryKey(string strategy)
    {
        const int Keys = 16;
        const int Revisions = 60;
        var store = new SharedProductStore { MaxLoadDelay = TimeSpan.FromMilliseconds(2) };
        for (int key = 1; key <= Keys; key++)
        {
            store.Put(Product.Of(key, 0));
        }

        (CacheNode a, CacheNode b) = await StartPairAsync(redis.ConnectionString, store, Configure(strategy));
        await using (a)
        await using (b)
        {
            using var writing = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            long reads = 0;
            Task reader = Task.Run(async () =>
            {
                for (int key = 1; !writing.IsCancellationRequested; key = (key % Keys) + 1)
                {
                    _ = await b.Cache.GetOrLoadAsync(key, Cancellation);
                    Interlocked.Increment(ref reads);
                    await Task.Yield();
                }
            }, Cancellation);

            var elapsed = Stopwatch.StartNew();
            for (int revision = 1; revision <= Revisions; revision++)
            {
                for (int key = 1; key <= Keys; key++)
                {
                    await a.Cache.SetAsync(key, Product.Of(key, revision), Cancellation);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(1), Cancellation);
            }

            await a.Cache.FlushAsync(Cancellation);
            await writing.CancelAsync();
            await reader;
            Log($"{strategy}: {Keys * Revisions} writes on A and {Interlocked.Read(ref reads)} reads on B in {Ms(elapsed.Elapsed)}; B: {b.Statistics}");
            for (int key = 1; key <= Keys; key++)
            {
                Assert.Equal(Revisions, store.Get(key)?.Revision);
            }

            // Every invalidation is on its way: B converges to the last revision of every key...
            await Eventually.HoldsAsync(
                async () =>
                {
                    for (int key = 1; key <= Keys; key++)
                    {
                        if (await RevisionAsync(b, key) != Revisions)
                        {
                            return false;
                        }
                    }

                    return true;
                },
                TimeSpan.FromSeconds(15),
                () => $"node B's L1 holds {string.Join(", ", Enumerable.Range(1, Keys).Select(k => $"{k}: r{LocalRevision(b, k)}"))}; every key should read r{Revisions}.{Environment.NewLine}{Describe(a, b)}",
                Cancellation);

            // ...and stays there.
            for (int i = 0; i < 5; i++)
            {
                for (int key = 1; key <= Keys; key++)
                {
                    Assert.Equal(Revisions, await RevisionAsync(b, key));
                    Assert.Equal(Revisions, await RevisionAsync(a, key));
                }
            }
        }
    }

    /// <summary>
    /// One key, written on A over and over while B keeps reloading it (every write invalidates it on B). After each
    /// write, once B has received its invalidation, B must read that write's value (within a bounded wait): a load on B
    /// that read the store before the write must not leave its older value in L1 or in L2.
    /// </summary>
    [Theory(Timeout = 180_000)]
    [MemberData(nameof(Strategies))]
    public async Task EveryWriteOnA_OnceItsInvalidationReachedB_IsWhatBReads_WhileBKeepsReloadingTheKey(string strategy)
    {
        const int Writes = 300;
        var store = new SharedProductStore { MaxLoadDelay = TimeSpan.FromMilliseconds(1) };
        store.Put(Product.Of(1, 0));
        (CacheNode a, CacheNode b) = await StartPairAsync(redis.ConnectionString, store, Configure(strategy));
        await using (a)
        await using (b)
        {
            using var done = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            Task reader = Task.Run(async () =>
            {
                while (!done.IsCancellationRequested)
                {
                    _ = await b.Cache.GetOrLoadAsync(1, Cancellation);
                    await Task.Yield();
                }
            }, Cancellation);

            var stale = new List<string>();
            for (int revision = 1; revision <= Writes && stale.Count == 0; revision++)
            {
                long received = b.Statistics.InvalidationsReceived;
                await a.Cache.SetAsync(1, Product.Of(1, revision), Cancellation);
                await a.Cache.FlushAsync(Cancellation);
                await Eventually.HoldsAsync(() => b.Statistics.InvalidationsReceived > received, Eventually.Soon, () => Describe(a, b), Cancellation);

                // Bounded: B may still be finishing a load that started before the invalidation.
                var waited = Stopwatch.StartNew();
                long? seen;
                while ((seen = await RevisionAsync(b, 1)) != revision && waited.Elapsed < TimeSpan.FromSeconds(3))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(5), Cancellation);
                }

                if (seen != revision)
                {
                    stale.Add($"after write r{revision} (store: r{store.Get(1)?.Revision}) node B still read r{seen} {Ms(waited.Elapsed)} after the invalidation arrived; L1 r{LocalRevision(b, 1)}");
                }
            }

            await done.CancelAsync();
            await reader;
            Log($"{strategy}: B {b.Statistics}");
            Assert.True(stale.Count == 0, string.Join(Environment.NewLine, stale) + Environment.NewLine + Describe(a, b));
        }
    }

    /// <summary>
    /// Node B's load reads r1 from the store; node A then writes r2 (the write is complete: store, L2, publish); B's load
    /// finishes and B receives A's invalidation only afterwards (pub/sub travels on another connection than L2 calls,
    /// and nothing bounds its lag; here B's deliveries are held back on purpose). Once the invalidation has arrived,
    /// both nodes must read r2: the older value B's load read must not be left behind in L2, where every node would
    /// keep finding it until it expires.
    /// </summary>
    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Strategies))]
    public async Task LoadOnB_OvertakenByAWriteOnA_WhoseInvalidationReachesBLate_LeavesNoOlderValueInL2(string strategy)
    {
        var store = new SharedProductStore();
        store.Put(Product.Of(1, 1));
        (CacheNode a, CacheNode b) = await StartPairAsync(
            redis.ConnectionString,
            store,
            Configure(strategy),
            services => services.AddSingleton<ICacheBackplane>(sp => new UnreliableBackplane(sp.GetRequiredService<RedisCacheBackplane>(), TimeSpan.FromMilliseconds(300))));
        await using (a)
        await using (b)
        {
            LoadHold hold = store.HoldNextLoad();
            Task<Product?> load = b.Cache.GetOrLoadAsync(1, Cancellation).AsTask();
            await hold.Read.WaitAsync(Eventually.Soon, Cancellation);

            long received = b.Statistics.InvalidationsReceived;
            await a.Cache.SetAsync(1, Product.Of(1, 2), Cancellation);
            await a.Cache.FlushAsync(Cancellation);
            Assert.Equal(2, store.Get(1)?.Revision);

            // The load returns what it read before the write: fine for a read that overlapped a write.
            hold.Release();
            Assert.Equal(1, (await load.WaitAsync(Eventually.Soon, Cancellation))?.Revision);

            await Eventually.HoldsAsync(() => b.Statistics.InvalidationsReceived > received, Eventually.Soon, () => Describe(a, b), Cancellation);
            var waited = Stopwatch.StartNew();
            long? onA = null;
            long? onB = null;
            while (waited.Elapsed < TimeSpan.FromSeconds(5))
            {
                onA = await RevisionAsync(a, 1);
                onB = await RevisionAsync(b, 1);
                if (onA == 2 && onB == 2)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), Cancellation);
            }

            Assert.True(
                onA == 2 && onB == 2,
                $"{strategy}: the store holds r2 and B received the invalidation, yet {Ms(waited.Elapsed)} later node A reads r{onA} and node B reads r{onB} "
                + $"(L1: A r{LocalRevision(a, 1)}, B r{LocalRevision(b, 1)}; L2 hits: A {a.Statistics.L2Hits}, B {b.Statistics.L2Hits}).{Environment.NewLine}{Describe(a, b)}");
        }
    }

    /// <summary>
    /// As above, but the invalidation never reaches B: B's subscription loses it (pub/sub is at-most-once), and B is
    /// told afterwards that messages may have been missed, so it revalidates. Revalidation must leave no older value
    /// behind either: the value B's overtaken load put in L2 would otherwise be what every node reads until it expires.
    /// </summary>
    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Strategies))]
    public async Task LoadOnB_OvertakenByAWriteOnA_WhoseInvalidationBLoses_LeavesNoOlderValueInL2_OnceBRevalidates(string strategy)
    {
        var store = new SharedProductStore();
        store.Put(Product.Of(1, 1));
        (CacheNode a, CacheNode b) = await StartPairAsync(
            redis.ConnectionString,
            store,
            Configure(strategy),
            services =>
            {
                services.AddSingleton(sp => new UnreliableBackplane(sp.GetRequiredService<RedisCacheBackplane>(), TimeSpan.Zero));
                services.AddSingleton<ICacheBackplane>(sp => sp.GetRequiredService<UnreliableBackplane>());
            });
        await using (a)
        await using (b)
        {
            UnreliableBackplane backplaneOfB = b.Services.GetRequiredService<UnreliableBackplane>();
            LoadHold hold = store.HoldNextLoad();
            Task<Product?> load = b.Cache.GetOrLoadAsync(1, Cancellation).AsTask();
            await hold.Read.WaitAsync(Eventually.Soon, Cancellation);

            backplaneOfB.LoseMessages();
            await a.Cache.SetAsync(1, Product.Of(1, 2), Cancellation);
            await a.Cache.FlushAsync(Cancellation);
            Assert.Equal(2, store.Get(1)?.Revision);
            Assert.True(a.Statistics.InvalidationsSent >= 1, Describe(a, b));

            hold.Release();
            Assert.Equal(1, (await load.WaitAsync(Eventually.Soon, Cancellation))?.Revision);

            long revalidations = b.Statistics.Revalidations;
            backplaneOfB.RestoreAndReportMissed();
            await Eventually.HoldsAsync(() => b.Statistics.Revalidations > revalidations, Eventually.Soon, () => Describe(a, b), Cancellation);
            var waited = Stopwatch.StartNew();
            long? onA = null;
            long? onB = null;
            while (waited.Elapsed < TimeSpan.FromSeconds(5))
            {
                onA = await RevisionAsync(a, 1);
                onB = await RevisionAsync(b, 1);
                if (onA == 2 && onB == 2)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), Cancellation);
            }

            Assert.True(
                onA == 2 && onB == 2,
                $"{strategy}: the store holds r2 and B revalidated, yet {Ms(waited.Elapsed)} later node A reads r{onA} and node B reads r{onB} "
                + $"(L1: A r{LocalRevision(a, 1)}, B r{LocalRevision(b, 1)}; L2 hits: A {a.Statistics.L2Hits}, B {b.Statistics.L2Hits}).{Environment.NewLine}{Describe(a, b)}");
        }
    }

    /// <summary>
    /// Node A's L2 calls fail once (a blip on A's Redis connection only), which opens A's L2 circuit for a second. A
    /// then writes a key whose older value is in L2: A cannot update or remove the L2 entry, but B drops the key
    /// from L1 on A's invalidation and reads again. Long after A's circuit has closed, B must read the new value, not
    /// the older one L2 still holds (and that B would then keep in L1 until it expires).
    /// </summary>
    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Strategies))]
    public async Task WriteOnA_WhileAsL2CircuitIsOpen_DoesNotLeaveBReadingTheOlderValueFromL2(string strategy)
    {
        var store = new SharedProductStore();
        store.Put(Product.Of(1, 1));
        store.Put(Product.Of(2, 1));
        (CacheNode a, CacheNode b) = await StartPairAsync(
            redis.ConnectionString,
            store,
            Options(Configure(strategy), o => o.DistributedCircuitBreakDuration = TimeSpan.FromSeconds(1)),
            servicesOfA: services =>
            {
                services.AddSingleton(sp => new SwitchableDistributedCache(ActivatorUtilities.CreateInstance<RedisCache>(sp)));
                services.AddSingleton<IDistributedCache>(sp => sp.GetRequiredService<SwitchableDistributedCache>());
            });
        await using (a)
        await using (b)
        {
            // A loads key 1 and puts r1 in L2; B reads it from there.
            Assert.Equal(1, await RevisionAsync(a, 1));
            Assert.Equal(1, await RevisionAsync(b, 1));
            Assert.Equal(1, b.Statistics.L2Hits);

            // One failed L2 call on A opens A's circuit.
            a.Services.GetRequiredService<SwitchableDistributedCache>().FailNext(1);
            Assert.Equal(1, await RevisionAsync(a, 2));
            Assert.Equal(1, a.Statistics.DistributedFailures);

            long received = b.Statistics.InvalidationsReceived;
            await a.Cache.SetAsync(1, Product.Of(1, 2), Cancellation);
            await a.Cache.FlushAsync(Cancellation);
            Assert.Equal(2, store.Get(1)?.Revision);
            await Eventually.HoldsAsync(() => b.Statistics.InvalidationsReceived > received, Eventually.Soon, () => Describe(a, b), Cancellation);

            // Bounded, and far longer than A's one-second circuit break.
            var waited = Stopwatch.StartNew();
            long? onB;
            while ((onB = await RevisionAsync(b, 1)) != 2 && waited.Elapsed < TimeSpan.FromSeconds(8))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), Cancellation);
            }

            Assert.True(
                onB == 2,
                $"{strategy}: the store holds r2 and B received A's invalidation, yet {Ms(waited.Elapsed)} later node B reads r{onB} "
                + $"(B's L2 hits: {b.Statistics.L2Hits}; A's L1: r{LocalRevision(a, 1)}).{Environment.NewLine}{Describe(a, b)}");
        }
    }

    private static Action<CacheOptions<int, Product>> Configure(string strategy) => strategy switch
    {
        "write-through" => Options(o => o.WriteThrough()),
        "write-around" => Options(o => o.WriteAround()),
        _ => Options(o => o.WriteBack(wb => wb.FlushInterval = TimeSpan.FromMilliseconds(20))),
    };
}
