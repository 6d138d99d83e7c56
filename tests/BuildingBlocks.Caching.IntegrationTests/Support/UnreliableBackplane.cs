using System.Threading.Channels;

namespace BuildingBlocks.Caching.IntegrationTests.Support;

/// <summary>
/// Wraps a node's real backplane and makes its deliveries to the cache unreliable the way pub/sub is: each message is
/// handed over <see cref="Delay"/> after it arrived (a slow subscription connection or a busy node: deliveries lag
/// behind the node's own L2 calls, which travel on another connection), and between <see cref="LoseMessages"/> and
/// <see cref="RestoreAndReportMissed"/> messages are lost, then the cache is told so, as the Redis backplane does after a
/// lost and restored subscription connection. Order is kept.
/// </summary>
public sealed class UnreliableBackplane(ICacheBackplane inner, TimeSpan delay) : ICacheBackplane
{
    private readonly List<Subscriber> _subscribers = [];
    private volatile bool _losing;

    public TimeSpan Delay { get; } = delay;

    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken) => inner.PublishAsync(message, cancellationToken);

    public async ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken)
    {
        var wrapped = new Subscriber(this, subscriber);
        IAsyncDisposable subscription = await inner.SubscribeAsync(wrapped, cancellationToken);
        lock (_subscribers)
        {
            _subscribers.Add(wrapped);
        }

        return new Subscription(subscription, wrapped);
    }

    /// <summary>From now on, received messages are dropped (the subscription connection is down).</summary>
    public void LoseMessages() => _losing = true;

    /// <summary>Deliveries resume and every subscriber is told that messages may have been missed.</summary>
    public void RestoreAndReportMissed()
    {
        _losing = false;
        lock (_subscribers)
        {
            foreach (Subscriber subscriber in _subscribers)
            {
                subscriber.OnMessagesMayHaveBeenMissed("the test restored a subscription that lost messages");
            }
        }
    }

    private sealed class Subscriber : ICacheBackplaneSubscriber
    {
        private readonly Channel<(DateTimeOffset Due, Action<ICacheBackplaneSubscriber> Deliver)> _queue =
            Channel.CreateUnbounded<(DateTimeOffset, Action<ICacheBackplaneSubscriber>)>(new UnboundedChannelOptions { SingleReader = true });

        private readonly UnreliableBackplane _owner;
        private readonly ICacheBackplaneSubscriber _target;

        public Subscriber(UnreliableBackplane owner, ICacheBackplaneSubscriber target)
        {
            _owner = owner;
            _target = target;
            Pump = Task.Run(PumpAsync);
        }

        public Task Pump { get; }

        public void OnMessage(BackplaneMessage message)
        {
            if (!_owner._losing)
            {
                _queue.Writer.TryWrite((DateTimeOffset.UtcNow + _owner.Delay, t => t.OnMessage(message)));
            }
        }

        public void OnMessagesMayHaveBeenMissed(string reason) => _queue.Writer.TryWrite((DateTimeOffset.UtcNow + _owner.Delay, t => t.OnMessagesMayHaveBeenMissed(reason)));

        public void Complete() => _queue.Writer.TryComplete();

        private async Task PumpAsync()
        {
            await foreach ((DateTimeOffset due, Action<ICacheBackplaneSubscriber> deliver) in _queue.Reader.ReadAllAsync())
            {
                TimeSpan wait = due - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                deliver(_target);
            }
        }
    }

    private sealed class Subscription(IAsyncDisposable inner, Subscriber subscriber) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            subscriber.Complete();
            await subscriber.Pump;
        }
    }
}
