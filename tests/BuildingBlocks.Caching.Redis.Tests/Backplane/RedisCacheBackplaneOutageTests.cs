using BuildingBlocks.Caching.Redis.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace BuildingBlocks.Caching.Redis.Tests.Backplane;

/// <summary>Outages of a server of the test's own: stopped or killed, started again on the same port, or never there.</summary>
public sealed class RedisCacheBackplaneOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan PublishBound = TimeSpan.FromSeconds(30);

    private readonly string _prefix = Backplanes.UniquePrefix();
    private readonly FakeLogCollector _logs = new();
    private readonly List<IAsyncDisposable> _disposables = [];
    private RedisServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await RedisServer.StartAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        for (int i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData(false, "resp2")]
    [InlineData(true, "resp2")]
    [InlineData(false, "resp3")]
    public async Task ServerRestart_TellsSubscribersMessagesMayHaveBeenMissed_ThenDeliversNewMessages(bool crash, string protocol)
    {
        // RESP2 carries pub/sub on a connection of its own; RESP3 on the interactive one.
        string configuration = $"{_server.ConnectionString},protocol={protocol}";
        RedisCacheBackplane a = Track(Backplanes.Create(configuration, _prefix));
        RedisCacheBackplane b = Track(Backplanes.Create(configuration, _prefix, new FakeLoggerFactory(_logs)));
        var first = new RecordingSubscriber();
        var second = new RecordingSubscriber();
        Track(await b.SubscribeAsync(first, Ct));
        Track(await b.SubscribeAsync(second, Ct));
        var node = Guid.NewGuid();
        await a.PublishAsync(Backplanes.Message(node, 1), Ct);
        await first.WaitUntilAsync(s => s.Messages.Count == 1, Backplanes.Eventually, "the message before the outage");

        if (crash)
        {
            await _server.KillAsync(Ct);
        }
        else
        {
            await _server.StopAsync(Ct);
        }

        await _server.StartAgainAsync(Ct);

        await first.WaitUntilAsync(s => s.MissedReasons.Count >= 1, Backplanes.Reconnection, "the missed-messages notice after the restart");
        await second.WaitUntilAsync(s => s.MissedReasons.Count >= 1, Backplanes.Eventually, "the notice at the second subscriber");
        Assert.Contains(_server.EndPoint, first.MissedReasons[0], StringComparison.Ordinal);
        Assert.Contains(b.Channel, first.MissedReasons[0], StringComparison.Ordinal);

        // A's connection comes back on its own schedule: publish until Redis accepts, then B must receive.
        await PublishUntilAcceptedAsync(a, Backplanes.Message(node, 2));
        await first.WaitUntilAsync(s => s.Messages.Any(m => m.Sequence == 2), Backplanes.Eventually, "a message published after the restart");
        Assert.Equal(["message", "missed", "message"], Collapse(first.Events));
        Assert.Equal(1, first.MaxConcurrentCalls);

        FakeLogRecord lost = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 3101);
        Assert.Equal(("SubscriptionLost", LogLevel.Warning), (lost.Id.Name, lost.Level));
        FakeLogRecord restored = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 3102);
        Assert.Equal(("SubscriptionRestored", LogLevel.Warning), (restored.Id.Name, restored.Level));
        Assert.Contains("the 2 subscribers", restored.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_WhileTheServerIsDown_ThrowsWithinABoundedTime()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(_server.ConnectionString, _prefix));
        await a.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1), Ct);

        await _server.StopAsync(Ct);

        Exception error = await PublishFailureAsync(a, Backplanes.Message(Guid.NewGuid(), 2));
        Assert.True(error is RedisConnectionException or RedisTimeoutException, $"Expected a Redis connection or timeout error, got {error}");
    }

    [Fact]
    public async Task PublishAsync_WhenRedisIsUnreachableAtFirstUse_Throws_AndConnectsOnceItIsBack()
    {
        await _server.StopAsync(Ct);
        RedisCacheBackplane a = Track(Backplanes.Create(_server.ConnectionString + ",connectTimeout=2000", _prefix));

        Exception error = await PublishFailureAsync(a, Backplanes.Message(Guid.NewGuid(), 1));
        Assert.IsType<RedisConnectionException>(error);

        await _server.StartAgainAsync(Ct);
        var received = new RecordingSubscriber();
        Track(await a.SubscribeAsync(received, Ct));
        await a.PublishAsync(Backplanes.Message(Guid.NewGuid(), 2), Ct);
        await received.WaitUntilAsync(s => s.Messages.Count == 1, Backplanes.Eventually, "the message once Redis is back");
    }

    [Fact]
    public async Task PublishAsync_StuckOnAnApplicationConnectionThatQueuesWhileDisconnected_HonoursCancellation()
    {
        // The application's own connection queues commands while disconnected and would wait a minute.
        ConfigurationOptions configuration = ConfigurationOptions.Parse(_server.ConnectionString);
        configuration.AsyncTimeout = 60_000;
        configuration.BacklogPolicy = BacklogPolicy.Default;
        await using ConnectionMultiplexer shared = await ConnectionMultiplexer.ConnectAsync(configuration);
        RedisCacheBackplane a = Track(new RedisCacheBackplane(new RedisBackplaneOptions
        {
            ChannelPrefix = _prefix,
            ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(shared),
        }));
        await a.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1), Ct);
        await _server.StopAsync(Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(200));

        Task publish = a.PublishAsync(Backplanes.Message(Guid.NewGuid(), 2), cancel.Token).AsTask();

        Assert.Same(publish, await Task.WhenAny(publish, Task.Delay(PublishBound, Ct)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publish);
    }

    [Fact]
    public async Task DisposeAsync_WhileTheServerIsDown_Completes()
    {
        RedisCacheBackplane b = Backplanes.Create(_server.ConnectionString, _prefix);
        await using IAsyncDisposable subscription = await b.SubscribeAsync(new RecordingSubscriber(), Ct);
        await _server.StopAsync(Ct);

        Task dispose = b.DisposeAsync().AsTask();

        Assert.Same(dispose, await Task.WhenAny(dispose, Task.Delay(PublishBound, Ct)));
        await dispose;
    }

    private static async Task<Exception> PublishFailureAsync(RedisCacheBackplane backplane, BackplaneMessage message)
    {
        Task publish = backplane.PublishAsync(message, Ct).AsTask();
        Assert.True(publish == await Task.WhenAny(publish, Task.Delay(PublishBound, Ct)), $"The publish neither failed nor succeeded within {PublishBound}.");
        return await Assert.ThrowsAnyAsync<Exception>(() => publish);
    }

    private static async Task PublishUntilAcceptedAsync(RedisCacheBackplane backplane, BackplaneMessage message)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Backplanes.Reconnection);
        while (true)
        {
            try
            {
                await backplane.PublishAsync(message, deadline.Token);
                return;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException && !deadline.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
        }
    }

    /// <summary>The events with repeats of the same kind in a row collapsed: message, missed, message.</summary>
    private static List<string> Collapse(IReadOnlyList<string> events)
    {
        List<string> collapsed = [];
        foreach (string e in events)
        {
            if (collapsed.Count == 0 || collapsed[^1] != e)
            {
                collapsed.Add(e);
            }
        }

        return collapsed;
    }

    private T Track<T>(T disposable)
        where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }
}
