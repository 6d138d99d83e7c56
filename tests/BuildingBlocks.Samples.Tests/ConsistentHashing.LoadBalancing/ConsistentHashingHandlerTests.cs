using System.Net;
using System.Net.Http.Json;
using BuildingBlocks.ConsistentHashing;
using ConsistentHashing.LoadBalancing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.Samples.Tests.LoadBalancing;

public class ConsistentHashingHandlerTests
{
    private static readonly Uri BaseAddress = new("http://backend.invalid/");

    [Fact]
    public async Task SendAsync_SameId_RoutesToSameServer()
    {
        HashRing<ServerEndpoint> ring = CreateRing(4);
        using var recorder = new RecordingHandler();
        using HttpClient client = CreateClient(ring, recorder, new ConsistentHashingHandlerOptions());

        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 50; i++)
            {
                string id = $"id-{i}";
                using HttpResponseMessage response = await SendAsync(client, $"work/{id}", id);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        Assert.Equal(250, recorder.Requests.Count);
        foreach (IGrouping<string, (string? Id, Uri Uri)> byId in recorder.Requests.GroupBy(r => r.Id!))
        {
            Uri expected = ring.GetNode(byId.Key).Uri;
            Assert.All(byId, r => Assert.Equal(new Uri(expected, $"work/{byId.Key}"), r.Uri));
        }

        // 50 ids over 4 servers: the ring spreads them, so more than one server got traffic.
        Assert.True(recorder.Requests.Select(r => r.Uri.Port).Distinct().Count() > 1);
    }

    [Fact]
    public async Task SendAsync_WithoutHeader_UsesLastPathSegmentAsId()
    {
        HashRing<ServerEndpoint> ring = CreateRing(4);
        using var recorder = new RecordingHandler();
        using HttpClient client = CreateClient(ring, recorder, new ConsistentHashingHandlerOptions());

        for (int i = 0; i < 20; i++)
        {
            string id = $"order {i}";
            using HttpResponseMessage response = await SendAsync(client, $"work/{Uri.EscapeDataString(id)}?verbose=1", header: null);
            Uri routed = recorder.Requests[^1].Uri;
            Uri owner = ring.GetNode(id).Uri;
            Assert.Equal((owner.Host, owner.Port), (routed.Host, routed.Port));
            Assert.Equal($"/work/{Uri.EscapeDataString(id)}", routed.AbsolutePath);
            Assert.Equal("?verbose=1", routed.Query);
        }
    }

    [Fact]
    public async Task SendAsync_WithHeaderAndPath_HeaderDecides()
    {
        HashRing<ServerEndpoint> ring = CreateRing(8);
        using var recorder = new RecordingHandler();
        using HttpClient client = CreateClient(ring, recorder, new ConsistentHashingHandlerOptions { HeaderName = "X-Tenant" });

        for (int i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"work/path-{i}", UriKind.Relative));
            request.Headers.Add("X-Tenant", $"tenant-{i}");
            using HttpResponseMessage response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(ring.GetNode($"tenant-{i}").Uri.Port, recorder.Requests[^1].Uri.Port);
        }
    }

    [Fact]
    public async Task SendAsync_WhenRingIsEmpty_Returns503WithoutSending()
    {
        HashRing<ServerEndpoint> ring = CreateRing(0);
        using var recorder = new RecordingHandler();
        using HttpClient client = CreateClient(ring, recorder, new ConsistentHashingHandlerOptions());

        using HttpResponseMessage response = await SendAsync(client, "work/42", "42");

        Assert.Empty(recorder.Requests);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(ConsistentHashingHandler.NoServersReasonPhrase, response.ReasonPhrase);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("no backend servers", body, StringComparison.Ordinal);
        Assert.Contains("'42'", body, StringComparison.Ordinal);
        HttpRequestException error = Assert.Throws<HttpRequestException>(() => response.EnsureSuccessStatusCode());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
    }

    [Fact]
    public async Task SendAsync_WithoutIdAndPathFallbackOff_ThrowsNamingTheHeader()
    {
        HashRing<ServerEndpoint> ring = CreateRing(2);
        using var recorder = new RecordingHandler();
        using HttpClient client = CreateClient(ring, recorder, new ConsistentHashingHandlerOptions { FallBackToPath = false });

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => SendAsync(client, "work/42", header: null));

        Assert.Contains(ConsistentHashingHandlerOptions.DefaultHeaderName, error.Message, StringComparison.Ordinal);
        Assert.Empty(recorder.Requests);
    }

    [Fact]
    public async Task BalancedClient_SameId_ReachesSameKestrelServerAndHitsItsCache()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddConsistentHashingLoadBalancer();
        await using ServiceProvider provider = services.BuildServiceProvider();
        IConsistentHash<ServerEndpoint> ring = provider.GetRequiredService<IConsistentHash<ServerEndpoint>>();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(LoadBalancingServiceCollectionExtensions.BalancedClientName);

        var servers = new List<BackendServer>();
        try
        {
            for (int i = 1; i <= 3; i++)
            {
                BackendServer server = await BackendServer.StartAsync($"server-{i}", cancellationToken);
                servers.Add(server);
                ring.Add(server.Endpoint);
            }

            var answers = new List<WorkResponse>();
            for (int i = 0; i < 10; i++)
            {
                answers.Add((await client.GetFromJsonAsync<WorkResponse>(new Uri("work/customer-7", UriKind.Relative), cancellationToken))!);
            }

            string owner = ring.GetNode("customer-7").Name;
            Assert.All(answers, a => Assert.Equal(owner, a.Server));
            Assert.Equal(9, answers.Count(a => a.CacheHit));
            Assert.Equal(10, servers.Single(s => s.Name == owner).Requests);
            Assert.All(servers.Where(s => s.Name != owner), s => Assert.Equal(0, s.Requests));
        }
        finally
        {
            foreach (BackendServer server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task BalancedClient_WhenRingIsEmpty_Returns503()
    {
        var services = new ServiceCollection();
        services.AddConsistentHashingLoadBalancer();
        await using ServiceProvider provider = services.BuildServiceProvider();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(LoadBalancingServiceCollectionExtensions.BalancedClientName);

        using HttpResponseMessage response = await client.GetAsync(new Uri("work/1", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(ConsistentHashingHandler.NoServersReasonPhrase, response.ReasonPhrase);
    }

    private static HashRing<ServerEndpoint> CreateRing(int servers)
    {
        var ring = new HashRing<ServerEndpoint>(new ConsistentHashOptions<ServerEndpoint> { NodeKeySelector = s => s.Name, VirtualNodes = 160 });
        for (int i = 1; i <= servers; i++)
        {
            // Never contacted: the recording handler answers instead of the network.
            ring.Add(new ServerEndpoint($"server-{i}", new Uri($"http://127.0.0.1:{10_000 + i}/")));
        }

        return ring;
    }

    private static HttpClient CreateClient(HashRing<ServerEndpoint> ring, RecordingHandler recorder, ConsistentHashingHandlerOptions options)
    {
#pragma warning disable CA2000 // The client owns the handler chain and disposes it.
        var handler = new ConsistentHashingHandler(ring, Options.Create(options)) { InnerHandler = recorder };
#pragma warning restore CA2000
        return new HttpClient(handler) { BaseAddress = BaseAddress };
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string relative, string? header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(relative, UriKind.Relative));
        if (header is not null)
        {
            request.Headers.Add(ConsistentHashingHandlerOptions.DefaultHeaderName, header);
        }

        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>The end of the chain: records where each request was routed and answers 200 without any network.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public List<(string? Id, Uri Uri)> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string? id = request.Headers.TryGetValues(ConsistentHashingHandlerOptions.DefaultHeaderName, out IEnumerable<string>? values) ? values.First() : null;
            Requests.Add((id, request.RequestUri!));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request });
        }
    }
}
