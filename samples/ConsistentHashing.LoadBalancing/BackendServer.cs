using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ConsistentHashing.LoadBalancing;

/// <summary>
/// A small in-process Kestrel server on 127.0.0.1 (a free port chosen by the OS). <c>GET /work/{id}</c> answers with
/// the server's name and whether the id was already in its cache, a set of the ids it has served: a request
/// that reaches the server that served the id before is a cache hit, which is what consistent routing buys.
/// </summary>
public sealed class BackendServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte> _cache = new(StringComparer.Ordinal);
    private long _requests;
    private long _hits;
    private bool _stopped;

    private BackendServer(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    /// <summary>The server's name, also its key on the ring.</summary>
    public string Name { get; }

    /// <summary>Where it listens (loopback, set once started).</summary>
    public ServerEndpoint Endpoint { get; private set; } = null!;

    /// <summary>Requests served since start.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests whose id was already cached.</summary>
    public long CacheHits => Interlocked.Read(ref _hits);

    /// <summary>The distinct ids this server has cached.</summary>
    public int CachedIds => _cache.Count;

    /// <summary>Starts a server named <paramref name="name"/> on 127.0.0.1 on a free port.</summary>
    /// <param name="name">The server name.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<BackendServer> StartAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);

        // The empty builder reads no configuration and logs nothing, so ASPNETCORE_URLS cannot widen the binding
        // and the demo output stays readable.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        WebApplication app = builder.Build();

        var server = new BackendServer(name, app);
        app.MapGet("/work/{id}", (string id) => Results.Json(server.Serve(id)));

        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        var uri = new Uri(address, UriKind.Absolute);
        if (!IPAddress.TryParse(uri.Host, out IPAddress? bound) || !IPAddress.IsLoopback(bound))
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"Server {name} bound to {address}; only loopback addresses are allowed.");
        }

        server.Endpoint = new ServerEndpoint(name, uri);
        return server;
    }

    /// <summary>Stops the server; later requests to its address are refused.</summary>
    /// <param name="cancellationToken">Cancels a graceful stop.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} at {Endpoint?.Uri}";

    private WorkResponse Serve(string id)
    {
        Interlocked.Increment(ref _requests);
        bool hit = !_cache.TryAdd(id, 0);
        if (hit)
        {
            Interlocked.Increment(ref _hits);
        }

        return new WorkResponse(Name, id, hit);
    }
}

/// <summary>The body of <c>GET /work/{id}</c>.</summary>
/// <param name="Server">The name of the server that did the work.</param>
/// <param name="Id">The request id.</param>
/// <param name="CacheHit">Whether that server had served the id before.</param>
public sealed record WorkResponse(string Server, string Id, bool CacheHit);
