using BuildingBlocks.Caching.Redis.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace BuildingBlocks.Caching.Redis.Tests.Backplane;

/// <summary>Two or more backplanes, each with its own connection, on the shared server and a channel of the test's own.</summary>
public sealed class RedisCacheBackplaneTests(RedisFixture fixture) : IAsyncLifetime
{
    private readonly string _prefix = Backplanes.UniquePrefix();
    private readonly FakeLogCollector _logs = new();
    private readonly List<IAsyncDisposable> _disposables = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PublishAsync_ManyMessagesOnA_ArriveAtBInOrderAndIntact()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        RedisCacheBackplane b = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        var received = new RecordingSubscriber();
        Track(await b.SubscribeAsync(received, Ct));
        var source = Guid.NewGuid();
        BackplaneMessageKind[] kinds = [BackplaneMessageKind.Invalidate, BackplaneMessageKind.Clear, BackplaneMessageKind.Heartbeat];
        List<BackplaneMessage> sent = [.. Enumerable.Range(1, 1000).Select(i => new BackplaneMessage(
            source,
            i,
            $"cache-{i % 7}",
            i % 3 == 1 ? System.Text.Encoding.UTF8.GetBytes($"{{\"id\":{i},\"name\":\"ü€😀-{new string('x', i % 300)}\"}}") : ReadOnlyMemory<byte>.Empty,
            (long)i << 20,
            kinds[i % 3]))];

        foreach (BackplaneMessage message in sent)
        {
            await a.PublishAsync(message, Ct);
        }

        await received.WaitUntilAsync(s => s.Messages.Count >= sent.Count, Backplanes.Eventually, "all 1000 messages at B");
        IReadOnlyList<BackplaneMessage> messages = received.Messages;
        Assert.Equal(sent.Count, messages.Count);
        for (int i = 0; i < sent.Count; i++)
        {
            Backplanes.Same(sent[i], messages[i]);
        }

        Assert.Empty(received.MissedReasons);
        Assert.Equal(1, received.MaxConcurrentCalls);
    }

    [Fact]
    public async Task PublishAsync_ReachesThePublishersOwnSubscribersToo()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        var own = new RecordingSubscriber();
        Track(await a.SubscribeAsync(own, Ct));
        BackplaneMessage message = Backplanes.Message(Guid.NewGuid(), 1);

        await a.PublishAsync(message, Ct);

        await own.WaitUntilAsync(s => s.Messages.Count == 1, Backplanes.Eventually, "the message back at its sender");
        Backplanes.Same(message, own.Messages[0]);
    }

    [Fact]
    public async Task PublishAsync_FromTwoPublishersAtOnce_KeepsEachPublishersOrder()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        RedisCacheBackplane c = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        RedisCacheBackplane b = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        var received = new RecordingSubscriber();
        Track(await b.SubscribeAsync(received, Ct));
        Guid nodeA = Guid.NewGuid(), nodeC = Guid.NewGuid();
        const int PerPublisher = 500;

        await Task.WhenAll(PublishManyAsync(a, nodeA), PublishManyAsync(c, nodeC));

        await received.WaitUntilAsync(s => s.Messages.Count >= 2 * PerPublisher, Backplanes.Eventually, "both publishers' messages at B");
        foreach (Guid node in new[] { nodeA, nodeC })
        {
            long[] sequences = [.. received.Messages.Where(m => m.SourceNode == node).Select(m => m.Sequence)];
            Assert.Equal(Enumerable.Range(1, PerPublisher).Select(i => (long)i), sequences);
        }

        Assert.Equal(1, received.MaxConcurrentCalls);

        static async Task PublishManyAsync(RedisCacheBackplane backplane, Guid node)
        {
            await Task.Yield();
            for (int i = 1; i <= PerPublisher; i++)
            {
                await backplane.PublishAsync(Backplanes.Message(node, i), Ct);
            }
        }
    }

    [Fact]
    public async Task MalformedPayloads_AreLoggedAndSkipped_AndLaterMessagesStillArrive()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        RedisCacheBackplane b = Track(Backplanes.Create(fixture.ConnectionString, _prefix, LoggerFactory()));
        var received = new RecordingSubscriber();
        Track(await b.SubscribeAsync(received, Ct));
        byte[] valid = BackplaneMessageCodec.Encode(Backplanes.Message(Guid.NewGuid(), 1));
        byte[][] malformed =
        [
            "not a backplane message"u8.ToArray(),
            [],
            [2, .. valid[1..]],
            valid[..^1],
            [.. valid, 0xFF],
            [1, 0, .. new byte[32], 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        ];

        // Another client writes straight to the channel, as a buggy or foreign publisher would.
        await using (ConnectionMultiplexer raw = await ConnectionMultiplexer.ConnectAsync(fixture.ConnectionString))
        {
            foreach (byte[] payload in malformed)
            {
                _ = await raw.GetSubscriber().PublishAsync(RedisChannel.Literal(b.Channel), payload);
            }
        }

        BackplaneMessage after = Backplanes.Message(Guid.NewGuid(), 1, cache: "after");
        await a.PublishAsync(after, Ct);

        await received.WaitUntilAsync(s => s.Messages.Count >= 1, Backplanes.Eventually, "the valid message after the malformed ones");
        Backplanes.Same(after, Assert.Single(received.Messages));
        FakeLogRecord[] warnings = [.. _logs.GetSnapshot().Where(r => r.Id.Id == 3103)];
        Assert.Equal(malformed.Length, warnings.Length);
        Assert.All(warnings, w => Assert.Equal(("MalformedMessage", LogLevel.Warning, "BuildingBlocks.Caching.Redis"), (w.Id.Name, w.Level, w.Category)));
        Assert.Contains(warnings, w => w.Message.Contains("format version is 2", StringComparison.Ordinal));
        Assert.Contains($"on Redis channel '{b.Channel}'", warnings[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscriberThatThrows_IsLogged_AndTheOthersKeepReceiving()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        RedisCacheBackplane b = Track(Backplanes.Create(fixture.ConnectionString, _prefix, LoggerFactory()));
        var failing = new RecordingSubscriber { ThrowOnMessage = true };
        var healthy = new RecordingSubscriber();
        Track(await b.SubscribeAsync(failing, Ct));
        Track(await b.SubscribeAsync(healthy, Ct));
        var node = Guid.NewGuid();

        for (int i = 1; i <= 3; i++)
        {
            await a.PublishAsync(Backplanes.Message(node, i), Ct);
        }

        await healthy.WaitUntilAsync(s => s.Messages.Count == 3, Backplanes.Eventually, "three messages at the healthy subscriber");
        Assert.Equal(3, failing.Messages.Count);
        FakeLogRecord[] errors = [.. _logs.GetSnapshot().Where(r => r.Id.Id == 3104)];
        Assert.Equal(3, errors.Length);
        Assert.All(errors, e => Assert.IsType<InvalidOperationException>(e.Exception));
        Assert.Equal(LogLevel.Error, errors[0].Level);
    }

    [Fact]
    public async Task DisposingASubscription_StopsDeliveriesToThatSubscriberOnly()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        RedisCacheBackplane b = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        var leaving = new RecordingSubscriber();
        var staying = new RecordingSubscriber();
        IAsyncDisposable subscription = await b.SubscribeAsync(leaving, Ct);
        Track(await b.SubscribeAsync(staying, Ct));
        var node = Guid.NewGuid();
        await a.PublishAsync(Backplanes.Message(node, 1), Ct);
        await leaving.WaitUntilAsync(s => s.Messages.Count == 1, Backplanes.Eventually, "the first message");

        await subscription.DisposeAsync();
        await subscription.DisposeAsync();
        await a.PublishAsync(Backplanes.Message(node, 2), Ct);

        // One delivery hands a message to every subscriber in turn: once the staying one has message 2, the leaving
        // one would have it too if it were still subscribed.
        await staying.WaitUntilAsync(s => s.Messages.Count == 2, Backplanes.Eventually, "the second message");
        Assert.Equal([1L], leaving.Messages.Select(m => m.Sequence));
    }

    [Fact]
    public async Task Backplanes_WithDifferentPrefixes_DoNotSeeEachOther()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        RedisCacheBackplane other = Track(Backplanes.Create(fixture.ConnectionString, _prefix + "-other"));
        var mine = new RecordingSubscriber();
        var theirs = new RecordingSubscriber();
        Track(await a.SubscribeAsync(mine, Ct));
        Track(await other.SubscribeAsync(theirs, Ct));

        await other.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1, cache: "other"), Ct);
        await a.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1, cache: "mine"), Ct);

        await mine.WaitUntilAsync(s => s.Messages.Count >= 1, Backplanes.Eventually, "the message on my channel");
        await theirs.WaitUntilAsync(s => s.Messages.Count >= 1, Backplanes.Eventually, "the message on the other channel");
        Assert.Equal(["mine"], mine.Messages.Select(m => m.CacheName));
        Assert.Equal(["other"], theirs.Messages.Select(m => m.CacheName));
        Assert.Equal($"{_prefix}:invalidations", a.Channel);
    }

    [Fact]
    public async Task PublishAsync_WithACanceledToken_ThrowsAndPublishesNothing()
    {
        RedisCacheBackplane a = Track(Backplanes.Create(fixture.ConnectionString, _prefix));
        var received = new RecordingSubscriber();
        Track(await a.SubscribeAsync(received, Ct));
        var node = Guid.NewGuid();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.PublishAsync(Backplanes.Message(node, 1), canceled.Token).AsTask());
        await a.PublishAsync(Backplanes.Message(node, 2), Ct);

        // Delivery is in order: had message 1 gone out, it would arrive before message 2.
        await received.WaitUntilAsync(s => s.Messages.Count >= 1, Backplanes.Eventually, "message 2");
        Assert.Equal(2, received.Messages[0].Sequence);
    }

    [Fact]
    public async Task Subscribe_LogsTheChannel()
    {
        RedisCacheBackplane b = Track(Backplanes.Create(fixture.ConnectionString, _prefix, LoggerFactory()));

        Track(await b.SubscribeAsync(new RecordingSubscriber(), Ct));
        Track(await b.SubscribeAsync(new RecordingSubscriber(), Ct));

        FakeLogRecord subscribed = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 3100);
        Assert.Equal(("Subscribed", LogLevel.Information), (subscribed.Id.Name, subscribed.Level));
        Assert.Equal($"Cache backplane subscribed to Redis channel '{b.Channel}'.", subscribed.Message);
    }

    [Fact]
    public async Task DisposeAsync_ThenUse_ThrowsObjectDisposed()
    {
        RedisCacheBackplane a = Backplanes.Create(fixture.ConnectionString, _prefix);
        Track(await a.SubscribeAsync(new RecordingSubscriber(), Ct));

        await a.DisposeAsync();
        await a.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => a.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1), Ct).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => a.SubscribeAsync(new RecordingSubscriber(), Ct).AsTask());
    }

    [Fact]
    public async Task ConnectionMultiplexerFactory_SharesTheApplicationsConnection_AndLeavesItOpen()
    {
        await using ConnectionMultiplexer shared = await ConnectionMultiplexer.ConnectAsync(fixture.ConnectionString);
        int calls = 0;
        var options = new RedisBackplaneOptions
        {
            ChannelPrefix = _prefix,
            ConnectionMultiplexerFactory = () =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult<IConnectionMultiplexer>(shared);
            },
        };
        var received = new RecordingSubscriber();
        await using (var backplane = new RedisCacheBackplane(options))
        {
            Track(await backplane.SubscribeAsync(received, Ct));
            await backplane.PublishAsync(Backplanes.Message(Guid.NewGuid(), 1), Ct);
            await backplane.PublishAsync(Backplanes.Message(Guid.NewGuid(), 2), Ct);
            await received.WaitUntilAsync(s => s.Messages.Count == 2, Backplanes.Eventually, "both messages");
        }

        Assert.Equal(1, calls);
        Assert.True(shared.IsConnected);
        _ = await shared.GetDatabase().PingAsync(); // throws if the backplane had closed it
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        for (int i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    private FakeLoggerFactory LoggerFactory() => new(_logs);

    private T Track<T>(T disposable)
        where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }
}
