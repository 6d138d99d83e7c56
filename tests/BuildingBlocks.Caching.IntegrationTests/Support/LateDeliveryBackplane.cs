using System.Threading.Channels;

namespace BuildingBlocks.Caching.IntegrationTests.Support;

/// <summary>
/// Wraps a node's real backplane and hands each received message to the cache <see cref="Delay"/> after it arrived, in
/// order: a slow subscription connection or a busy node, where pub/sub deliveries lag behind the node's own L2 calls
/// (they travel on another connection, so nothing orders them).
/// </summary>
public sealed class LateDeliveryBackplane(ICacheBackplane inner, TimeSpan delay) : ICacheBackplane
{
    public TimeSpan Delay { get; } = delay;

    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken) => inner.PublishAsync(message, cancellationToken);

    public async ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken)
    {
        var late = new LateSubscriber(subscriber, Delay);
        IAsyncDisposable subscription = await inner.SubscribeAsync(late, cancellationToken);
        return new Subscription(subscription, late);
    }

    private sealed class LateSubscriber : ICacheBackplaneSubscriber
    {
        private readonly Channel<(DateTimeOffset Due, Action<ICacheBackplaneSubscriber> Deliver)> _queue =
            Channel.CreateUnbounded<(DateTimeOffset, Action<ICacheBackplaneSubscriber>)>(new UnboundedChannelOptions { SingleReader = true });

        private readonly ICacheBackplaneSubscriber _target;
        private readonly TimeSpan _delay;

        public LateSubscriber(ICacheBackplaneSubscriber target, TimeSpan delay)
        {
            _target = target;
            _delay = delay;
            Pump = Task.Run(PumpAsync);
        }

        public Task Pump { get; }

        public void OnMessage(BackplaneMessage message) => _queue.Writer.TryWrite((DateTimeOffset.UtcNow + _delay, t => t.OnMessage(message)));

        public void OnMessagesMayHaveBeenMissed(string reason) => _queue.Writer.TryWrite((DateTimeOffset.UtcNow + _delay, t => t.OnMessagesMayHaveBeenMissed(reason)));

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

    private sealed class Subscription(IAsyncDisposable inner, LateSubscriber late) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            late.Complete();
            await late.Pump;
        }
    }
}
