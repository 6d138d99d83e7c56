using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Caching.Redis.Tests.Support;

/// <summary>Backplanes on a channel of the test's own, messages to send, and how long eventual conditions may take.</summary>
public static class Backplanes
{
    /// <summary>Bound for conditions that hold within milliseconds on a healthy machine (generous: machines are shared).</summary>
    public static readonly TimeSpan Eventually = TimeSpan.FromSeconds(30);

    /// <summary>Bound for a reconnection after a server restart (StackExchange.Redis retries with backoff).</summary>
    public static readonly TimeSpan Reconnection = TimeSpan.FromSeconds(90);

    /// <summary>A channel prefix no other test uses.</summary>
    public static string UniquePrefix() => $"test:{Guid.NewGuid():N}";

    public static RedisCacheBackplane Create(string configuration, string channelPrefix, ILoggerFactory? loggerFactory = null) =>
        new(new RedisBackplaneOptions { Configuration = configuration, ChannelPrefix = channelPrefix }, loggerFactory);

    public static BackplaneMessage Message(Guid source, long sequence, string cache = "users", string key = "\"user-1\"", BackplaneMessageKind kind = BackplaneMessageKind.Invalidate, long version = 7) =>
        new(source, sequence, cache, System.Text.Encoding.UTF8.GetBytes(key), version, kind);

    /// <summary>Asserts that two messages carry the same fields (the record compares its key by reference).</summary>
    public static void Same(BackplaneMessage expected, BackplaneMessage actual)
    {
        Assert.Equal(expected.SourceNode, actual.SourceNode);
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.CacheName, actual.CacheName);
        Assert.Equal(expected.Key.ToArray(), actual.Key.ToArray());
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Kind, actual.Kind);
    }
}
