using System.Globalization;
using BuildingBlocks.Caching.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.Caching.IntegrationTests.TwoNodes;

/// <summary>Two nodes on one Redis server (L2 and backplane) and one shared store, with a prefix no other test uses.</summary>
public abstract class TwoNodeTestBase
{
    /// <summary>Long enough that nothing expires during a test: every change a node sees comes from an invalidation.</summary>
    protected static readonly TimeSpan LongExpiration = TimeSpan.FromMinutes(10);

    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    protected static string UniquePrefix() => $"it:{Guid.NewGuid():N}";

    protected static void Log(string message) => TestContext.Current.TestOutputHelper?.WriteLine(message);

    protected static Action<CacheOptions<int, Product>> Options(Action<CacheOptions<int, Product>> strategy, Action<CacheOptions<int, Product>>? more = null) => o =>
    {
        strategy(o);
        o.Expiration = LongExpiration;
        o.ExpirationJitter = TimeSpan.Zero;
        more?.Invoke(o);
    };

    protected static async Task<(CacheNode A, CacheNode B)> StartPairAsync(
        string redis,
        SharedProductStore store,
        Action<CacheOptions<int, Product>> configure,
        Action<IServiceCollection>? servicesOfB = null,
        Action<IServiceCollection>? servicesOfA = null)
    {
        string prefix = UniquePrefix();
        CacheNode a = await CacheNode.StartAsync("A", redis, prefix, store, configure, Cancellation, servicesOfA);
        try
        {
            CacheNode b = await CacheNode.StartAsync("B", redis, prefix, store, configure, Cancellation, servicesOfB);
            return (a, b);
        }
        catch
        {
            await a.DisposeAsync();
            throw;
        }
    }

    protected static async Task<long?> RevisionAsync(CacheNode node, int key) => (await node.Cache.GetOrLoadAsync(key, Cancellation))?.Revision;

    protected static long? LocalRevision(CacheNode node, int key) => node.Cache.TryGetLocal(key, out Product product) ? product.Revision : null;

    protected static string Describe(params CacheNode[] nodes) => string.Join(Environment.NewLine, nodes.Select(n => n.Describe()));

    protected static string Ms(TimeSpan elapsed) => elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
