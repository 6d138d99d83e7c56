namespace BuildingBlocks.Caching;

/// <summary>
/// A backplane inside one process: every cache subscribed to the same instance gets every message, in order. For
/// several caches over one store in one process, and for tests; across processes use the Redis backplane.
/// </summary>
public sealed class InMemoryCacheBackplane : ICacheBackplane
{
    private readonly Lock _gate = new();
    private ICacheBackplaneSubscriber[] _subscribers = [];

    /// <inheritdoc />
    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();

        // Delivered under the lock, so every subscriber sees every publisher's messages in the order they were sent.
        lock (_gate)
        {
            foreach (ICacheBackplaneSubscriber subscriber in _subscribers)
            {
                subscriber.OnMessage(message);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_gate)
        {
            _subscribers = [.. _subscribers, subscriber];
        }

        return ValueTask.FromResult<IAsyncDisposable>(new Subscription(this, subscriber));
    }

    /// <summary>Tells every subscriber that messages may have been missed, as a real backplane does after a reconnect.</summary>
    public void SimulateReconnect(string reason)
    {
        ICacheBackplaneSubscriber[] subscribers;
        lock (_gate)
        {
            subscribers = _subscribers;
        }

        foreach (ICacheBackplaneSubscriber subscriber in subscribers)
        {
            subscriber.OnMessagesMayHaveBeenMissed(reason);
        }
    }

    private void Unsubscribe(ICacheBackplaneSubscriber subscriber)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, subscriber))];
        }
    }

    private sealed class Subscription(InMemoryCacheBackplane backplane, ICacheBackplaneSubscriber subscriber) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            backplane.Unsubscribe(subscriber);
            return ValueTask.CompletedTask;
        }
    }
}
