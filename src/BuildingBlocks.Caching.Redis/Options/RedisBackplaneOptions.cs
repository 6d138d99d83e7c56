using StackExchange.Redis;

namespace BuildingBlocks.Caching.Redis;

/// <summary>How the Redis backplane reaches Redis and which channel it uses.</summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>The default <see cref="ChannelPrefix"/>.</summary>
    public const string DefaultChannelPrefix = "buildingblocks:cache";

    /// <summary>The longest <see cref="ChannelPrefix"/> accepted, in characters.</summary>
    public const int MaxChannelPrefixLength = 200;

    /// <summary>
    /// A StackExchange.Redis configuration string (for example <c>"redis-1:6379,password=…"</c>). Set this or
    /// <see cref="ConnectionMultiplexerFactory"/>, not both. The backplane then opens its own connection on first use
    /// and closes it when disposed. While that connection is down, a publish waits in StackExchange.Redis's backlog and
    /// fails with a <see cref="RedisTimeoutException"/> after <c>asyncTimeout</c> (5 s by default; set
    /// <c>asyncTimeout=1000</c> in the string to fail sooner) unless the connection comes back first.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// Returns a connection the application owns, for example the one it registered in DI; the backplane calls it once,
    /// on first use, and never disposes the connection. Set this or <see cref="Configuration"/>. Publish failures then
    /// follow that connection's own backlog policy and timeouts.
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddSingleton&lt;IConnectionMultiplexer&gt;(_ =&gt; ConnectionMultiplexer.Connect("redis:6379"));
    /// services.AddOptions&lt;RedisBackplaneOptions&gt;().Configure&lt;IServiceProvider&gt;((o, sp) =&gt;
    ///     o.ConnectionMultiplexerFactory = () =&gt; Task.FromResult(sp.GetRequiredService&lt;IConnectionMultiplexer&gt;()));
    /// </code>
    /// </example>
    public Func<Task<IConnectionMultiplexer>>? ConnectionMultiplexerFactory { get; set; }

    /// <summary>
    /// The start of the channel name: the backplane publishes and subscribes on <c>&lt;ChannelPrefix&gt;:invalidations</c>
    /// (a literal channel, never a pattern). Applications that share a Redis server but not their data use different
    /// prefixes. Default <see cref="DefaultChannelPrefix"/>; not blank, at most <see cref="MaxChannelPrefixLength"/>
    /// characters.
    /// </summary>
    public string ChannelPrefix { get; set; } = DefaultChannelPrefix;
}
