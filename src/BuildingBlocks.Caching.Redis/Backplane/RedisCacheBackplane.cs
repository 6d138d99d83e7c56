using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace BuildingBlocks.Caching.Redis;

/// <summary>
/// A <see cref="ICacheBackplane"/> over Redis pub/sub: every node publishes its invalidations on one channel
/// (<c>&lt;ChannelPrefix&gt;:invalidations</c>) and every node subscribed to it, the sender included, receives them in the
/// order each publisher sent them.
/// </summary>
/// <remarks>
/// <para>Pub/sub is at-most-once: a message published while a node's subscription connection is down never reaches
/// that node. When the connection comes back, the backplane calls
/// <see cref="ICacheBackplaneSubscriber.OnMessagesMayHaveBeenMissed"/> on every subscriber, and the caches revalidate;
/// a message lost any other way shows up as a gap in its sender's sequence numbers, which the caches detect.</para>
/// <para>Messages are decoded and handed to the subscribers one at a time, in arrival order, on the backplane's
/// thread; a payload that is not a valid message is logged (event 3103) and skipped. A subscriber that throws is
/// logged (event 3104) and the others still receive the message.</para>
/// <para>The connection is opened on the first <see cref="PublishAsync"/> or <see cref="SubscribeAsync"/>; if Redis is
/// unreachable then, the call throws and the next one tries again. Once connected, StackExchange.Redis reconnects and
/// resubscribes by itself after an outage.</para>
/// </remarks>
public sealed partial class RedisCacheBackplane : ICacheBackplane, IAsyncDisposable, IDisposable
{
    /// <summary>What follows <see cref="RedisBackplaneOptions.ChannelPrefix"/> in the channel name.</summary>
    public const string ChannelSuffix = ":invalidations";

    private readonly RedisBackplaneOptions _options;
    private readonly ILogger _logger;
    private readonly RedisChannel _channel;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _subscribersGate = new();
    private readonly Lock _dispatchGate = new();
    private IConnectionMultiplexer? _connection;
    private bool _ownsConnection;
    private ChannelMessageQueue? _queue;
    private Registration[] _subscribers = [];
    private int _disposed;

    /// <summary>The category of the backplane's log events.</summary>
    public const string LogCategory = "BuildingBlocks.Caching.Redis";

    /// <summary>Creates the backplane; it connects on first use.</summary>
    /// <param name="options">How to reach Redis and the channel prefix.</param>
    /// <param name="loggerFactory">Creates the logger (category <see cref="LogCategory"/>, events 3100–3104), or <see langword="null"/> for no logs.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public RedisCacheBackplane(RedisBackplaneOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptionsResult(options);
        _options = new RedisBackplaneOptions
        {
            Configuration = options.Configuration,
            ConnectionMultiplexerFactory = options.ConnectionMultiplexerFactory,
            ChannelPrefix = options.ChannelPrefix,
        };
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(LogCategory);
        Channel = options.ChannelPrefix + ChannelSuffix;
        _channel = RedisChannel.Literal(Channel);
    }

    /// <summary>The Redis channel the backplane publishes on and subscribes to.</summary>
    public string Channel { get; }

    /// <summary>
    /// Publishes <paramref name="message"/> on the channel. Completes once Redis has accepted it (not when the other
    /// nodes have processed it).
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Stops waiting; the message may still be published.</param>
    /// <returns>A task that completes once Redis has accepted the message.</returns>
    /// <exception cref="RedisConnectionException">Redis was unreachable when the backplane first connected.</exception>
    /// <exception cref="RedisTimeoutException">
    /// Redis did not accept the message within the connection's <c>asyncTimeout</c> (5 s unless the configuration says
    /// otherwise), for example because the connection is down and the message waited in StackExchange.Redis's backlog.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        byte[] payload = BackplaneMessageCodec.Encode(message);
        IConnectionMultiplexer connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        _ = await connection.GetSubscriber().PublishAsync(_channel, payload).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts delivering the channel's messages to <paramref name="subscriber"/>. The first call connects and subscribes
    /// to the channel; when it returns, messages published from then on are delivered.
    /// </summary>
    /// <param name="subscriber">Receives the messages, and the notice after a lost and restored connection.</param>
    /// <param name="cancellationToken">Cancels the subscription.</param>
    /// <returns>Dispose it to stop the deliveries to this subscriber.</returns>
    /// <exception cref="RedisConnectionException">Redis is unreachable.</exception>
    public async ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await EnsureSubscribedAsync(cancellationToken).ConfigureAwait(false);
        var registration = new Registration(this, subscriber);
        lock (_subscribersGate)
        {
            _subscribers = [.. _subscribers, registration];
        }

        return registration;
    }

    /// <summary>As <see cref="DisposeAsync"/>, blocking until it completes.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Unsubscribes from the channel and closes the connection if the backplane opened it.</summary>
    /// <returns>A task that completes once the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (_subscribersGate)
            {
                _subscribers = [];
            }

            if (_queue is { } queue)
            {
                _queue = null;
                try
                {
                    // On a connection of its own the backplane does not wait: closing the connection ends the
                    // subscription anyway. On the application's connection the subscription must really end.
                    await queue.UnsubscribeAsync(_ownsConnection ? CommandFlags.FireAndForget : CommandFlags.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
                {
                    // The server is away: the server forgets the subscription with the connection.
                }
            }

            if (_connection is { } connection)
            {
                _connection = null;
                connection.ConnectionFailed -= OnConnectionFailed;
                connection.ConnectionRestored -= OnConnectionRestored;
                if (_ownsConnection)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    internal static void ValidateOptionsResult(RedisBackplaneOptions options)
    {
        var validation = new RedisBackplaneOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }
    }

    private async ValueTask<IConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _connection) is { } existing)
        {
            return existing;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ConnectUnderGateAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IConnectionMultiplexer> ConnectUnderGateAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_connection is { } existing)
        {
            return existing;
        }

        bool owns = _options.ConnectionMultiplexerFactory is null;
        Task<IConnectionMultiplexer> connecting = owns ? ConnectOwnAsync(_options.Configuration!) : _options.ConnectionMultiplexerFactory!();
        IConnectionMultiplexer connection;
        try
        {
            connection = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"{nameof(RedisBackplaneOptions)}.{nameof(RedisBackplaneOptions.ConnectionMultiplexerFactory)} returned null.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && owns)
        {
            // The connection may still open after the caller gave up: close it then.
            _ = connecting.ContinueWith(
                static task => task.Result.Dispose(),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion,
                TaskScheduler.Default);
            throw;
        }

        connection.ConnectionFailed += OnConnectionFailed;
        connection.ConnectionRestored += OnConnectionRestored;
        _ownsConnection = owns;
        Volatile.Write(ref _connection, connection);
        return connection;
    }

    private static async Task<IConnectionMultiplexer> ConnectOwnAsync(string configuration) =>
        await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);

    private async Task EnsureSubscribedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _queue) is not null)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IConnectionMultiplexer connection = await ConnectUnderGateAsync(cancellationToken).ConfigureAwait(false);
            if (_queue is not null)
            {
                return;
            }

            Task<ChannelMessageQueue> subscribing = connection.GetSubscriber().SubscribeAsync(_channel);
            ChannelMessageQueue queue;
            try
            {
                queue = await subscribing.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // A subscription nobody reads would buffer every message: end it if it completes after all.
                _ = subscribing.ContinueWith(
                    static task => task.Result.UnsubscribeAsync(),
                    CancellationToken.None,
                    TaskContinuationOptions.OnlyOnRanToCompletion,
                    TaskScheduler.Default);
                throw;
            }

            // One message at a time, in the order Redis delivered them: never concurrent handlers.
            queue.OnMessage(OnChannelMessage);
            Volatile.Write(ref _queue, queue);
            Subscribed(_logger, Channel);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void OnChannelMessage(ChannelMessage received)
    {
        RedisValue value = received.Message;
        ReadOnlyMemory<byte> payload = value.IsNull ? ReadOnlyMemory<byte>.Empty : (ReadOnlyMemory<byte>)value;
        if (!BackplaneMessageCodec.TryDecode(payload.Span, out BackplaneMessage? message, out string? error))
        {
            MalformedMessage(_logger, payload.Length, Channel, error!);
            return;
        }

        Registration[] subscribers = Volatile.Read(ref _subscribers);
        lock (_dispatchGate)
        {
            foreach (Registration registration in subscribers)
            {
                if (registration.IsActive)
                {
                    try
                    {
                        registration.Subscriber.OnMessage(message!);
                    }
                    catch (Exception e)
                    {
                        SubscriberFailed(_logger, e, nameof(ICacheBackplaneSubscriber.OnMessage), Channel);
                    }
                }
            }
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (Volatile.Read(ref _queue) is not null && CarriesSubscription(e))
        {
            SubscriptionLost(_logger, e.Exception, Describe(e.EndPoint), e.FailureType, Channel);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (!CarriesSubscription(e) || Volatile.Read(ref _queue) is null)
        {
            return;
        }

        string endPoint = Describe(e.EndPoint);
        string reason = $"the Redis subscription connection to {endPoint} was lost and restored; messages published on '{Channel}' meanwhile were not delivered";
        Registration[] subscribers = Volatile.Read(ref _subscribers);
        SubscriptionRestored(_logger, endPoint, Channel, subscribers.Length);
        lock (_dispatchGate)
        {
            foreach (Registration registration in subscribers)
            {
                if (registration.IsActive)
                {
                    try
                    {
                        registration.Subscriber.OnMessagesMayHaveBeenMissed(reason);
                    }
                    catch (Exception exception)
                    {
                        SubscriberFailed(_logger, exception, nameof(ICacheBackplaneSubscriber.OnMessagesMayHaveBeenMissed), Channel);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Whether the connection that failed or came back carries subscriptions: the subscription connection with RESP2,
    /// the interactive one with RESP3 (where pub/sub shares it).
    /// </summary>
    private bool CarriesSubscription(ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            return true;
        }

        if (e.ConnectionType != ConnectionType.Interactive || e.EndPoint is null || Volatile.Read(ref _connection) is not { } connection)
        {
            return false;
        }

        try
        {
            return connection.GetServer(e.EndPoint).Protocol == RedisProtocol.Resp3;
        }
        catch (Exception exception) when (exception is RedisException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    }

    private static string Describe(EndPoint? endPoint) => endPoint switch
    {
        null => "(unknown endpoint)",
        IPEndPoint ip => ip.ToString(),
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "(unknown endpoint)",
    };

    private void Remove(Registration registration)
    {
        lock (_subscribersGate)
        {
            _subscribers = [.. _subscribers.Where(r => !ReferenceEquals(r, registration))];
        }
    }

    [LoggerMessage(EventId = 3100, EventName = "Subscribed", Level = LogLevel.Information,
        Message = "Cache backplane subscribed to Redis channel '{Channel}'.")]
    private static partial void Subscribed(ILogger logger, string channel);

    [LoggerMessage(EventId = 3101, EventName = "SubscriptionLost", Level = LogLevel.Warning,
        Message = "Cache backplane lost its Redis subscription connection to {EndPoint} ({FailureType}); messages published on '{Channel}' until it is restored do not reach this node.")]
    private static partial void SubscriptionLost(ILogger logger, Exception? exception, string endPoint, ConnectionFailureType failureType, string channel);

    [LoggerMessage(EventId = 3102, EventName = "SubscriptionRestored", Level = LogLevel.Warning,
        Message = "Cache backplane's Redis subscription connection to {EndPoint} is restored; the {SubscriberCount} subscribers of channel '{Channel}' are told that messages may have been missed.")]
    private static partial void SubscriptionRestored(ILogger logger, string endPoint, string channel, int subscriberCount);

    [LoggerMessage(EventId = 3103, EventName = "MalformedMessage", Level = LogLevel.Warning,
        Message = "Cache backplane ignored a message of {Length} bytes on Redis channel '{Channel}' that is not a valid backplane message: {Reason}.")]
    private static partial void MalformedMessage(ILogger logger, int length, string channel, string reason);

    [LoggerMessage(EventId = 3104, EventName = "SubscriberFailed", Level = LogLevel.Error,
        Message = "A cache backplane subscriber threw from {Callback} on Redis channel '{Channel}'; the other subscribers and the next messages are still delivered.")]
    private static partial void SubscriberFailed(ILogger logger, Exception exception, string callback, string channel);

    private sealed class Registration(RedisCacheBackplane owner, ICacheBackplaneSubscriber subscriber) : IAsyncDisposable
    {
        private int _disposed;

        public ICacheBackplaneSubscriber Subscriber { get; } = subscriber;

        public bool IsActive => Volatile.Read(ref _disposed) == 0;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Remove(this);

                // A delivery in progress finishes before this returns; none starts after (the lock is reentrant, so a
                // subscriber may dispose from inside its callback).
                lock (owner._dispatchGate)
                {
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
