using System.Net;
using BuildingBlocks.ConsistentHashing;
using Microsoft.Extensions.Options;

namespace ConsistentHashing.LoadBalancing;

/// <summary>
/// Routes each request to the backend server that owns its request id on the consistent-hash ring:
/// the same id always reaches the same server while membership is unchanged, and a membership change
/// moves only the ids of the server that left (or only the ids the new server takes over).
/// </summary>
/// <remarks>
/// <para>
/// The request id comes from the <see cref="ConsistentHashingHandlerOptions.HeaderName"/> header (default
/// <c>X-Request-Id</c>); when the header is absent and <see cref="ConsistentHashingHandlerOptions.FallBackToPath"/>
/// is on, the last segment of the request path is the id (<c>/work/42</c> → <c>42</c>). Only the scheme, host and
/// port of the request URI are rewritten; path and query are kept.
/// </para>
/// <para>
/// Empty ring: the handler sends nothing and returns <c>503 Service Unavailable</c> with the reason phrase
/// <see cref="NoServersReasonPhrase"/> and a text body explaining why, the status a reverse proxy gives when no
/// upstream is available. Callers see an ordinary HTTP failure (<c>EnsureSuccessStatusCode</c> throws
/// <see cref="HttpRequestException"/> with <see cref="HttpRequestException.StatusCode"/> 503) rather than an
/// <see cref="EmptyRingException"/> from deep inside the handler pipeline.
/// </para>
/// <para>
/// Hashing is allocation-free: <see cref="IConsistentHash{TNode}.HashKey(string)"/> then
/// <see cref="IConsistentHash{TNode}.TryGetNode(ulong, out TNode)"/>.
/// </para>
/// </remarks>
public sealed class ConsistentHashingHandler : DelegatingHandler
{
    /// <summary>The reason phrase of the 503 returned when the ring has no servers.</summary>
    public const string NoServersReasonPhrase = "No backend servers on the consistent-hash ring";

    private readonly IConsistentHash<ServerEndpoint> _ring;
    private readonly ConsistentHashingHandlerOptions _options;

    /// <summary>Creates the handler.</summary>
    /// <param name="ring">The ring of backend servers.</param>
    /// <param name="options">Where the request id comes from.</param>
    public ConsistentHashingHandler(IConsistentHash<ServerEndpoint> ring, IOptions<ConsistentHashingHandlerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(options);
        _ring = ring;
        _options = options.Value;
    }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string id = GetRequestId(request);

        if (!_ring.TryGetNode(_ring.HashKey(id), out ServerEndpoint? server))
        {
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            {
                RequestMessage = request,
                ReasonPhrase = NoServersReasonPhrase,
                Content = new StringContent(
                    $"503 Service Unavailable: the consistent-hash ring has no backend servers, so request id '{id}' has no owner. " +
                    "Add a server to IConsistentHash<ServerEndpoint> before sending requests."),
            });
        }

        request.RequestUri = Rewrite(request.RequestUri, server.Uri);
        return base.SendAsync(request, cancellationToken);
    }

    private string GetRequestId(HttpRequestMessage request)
    {
        if (_options.HeaderName is { Length: > 0 } header
            && request.Headers.TryGetValues(header, out IEnumerable<string>? values))
        {
            foreach (string value in values)
            {
                if (!string.IsNullOrWhiteSpace(value))
                {
                    return value;
                }
            }
        }

        if (_options.FallBackToPath && request.RequestUri is { } uri)
        {
            string path = uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?', '#')[0];
            string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            return segments.Length > 0 ? Uri.UnescapeDataString(segments[^1]) : "/";
        }

        throw new InvalidOperationException(
            $"The request to '{request.RequestUri}' has no request id: set the '{_options.HeaderName}' header " +
            $"or enable {nameof(ConsistentHashingHandlerOptions)}.{nameof(ConsistentHashingHandlerOptions.FallBackToPath)}.");
    }

    private static Uri Rewrite(Uri? requestUri, Uri server)
    {
        if (requestUri is null)
        {
            return server;
        }

        if (!requestUri.IsAbsoluteUri)
        {
            return new Uri(server, requestUri);
        }

        return new UriBuilder(requestUri) { Scheme = server.Scheme, Host = server.Host, Port = server.Port }.Uri;
    }
}

/// <summary>Where <see cref="ConsistentHashingHandler"/> finds a request's id.</summary>
public sealed class ConsistentHashingHandlerOptions
{
    /// <summary>The default request-id header.</summary>
    public const string DefaultHeaderName = "X-Request-Id";

    /// <summary>The header that carries the request id; null or empty to ignore headers. Default <c>X-Request-Id</c>.</summary>
    public string? HeaderName { get; set; } = DefaultHeaderName;

    /// <summary>When the header is absent, use the last path segment as the id (<c>/work/42</c> → <c>42</c>). Default true.</summary>
    public bool FallBackToPath { get; set; } = true;
}
