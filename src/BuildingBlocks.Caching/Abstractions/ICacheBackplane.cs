namespace BuildingBlocks.Caching;

/// <summary>
/// Carries invalidation messages between the nodes that share a backing store, so a write on one node drops the
/// key from every other node's L1. Implementations: <see cref="InMemoryCacheBackplane"/> (one process) and the Redis
/// pub/sub backplane in BuildingBlocks.Caching.Redis.
/// </summary>
/// <remarks>
/// Delivery may be lost (pub/sub is at-most-once). The cache numbers every message it sends, so a receiver that
/// sees a gap, or a backplane that reports <see cref="ICacheBackplaneSubscriber.OnMessagesMayHaveBeenMissed"/>
/// after a reconnect, makes the caches revalidate instead of serving stale data indefinitely.
/// </remarks>
public interface ICacheBackplane
{
    /// <summary>Sends one message to every subscribed node, this one included.</summary>
    ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken);

    /// <summary>Starts delivering messages to <paramref name="subscriber"/>; dispose the result to stop.</summary>
    ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken);
}

/// <summary>Receives what a <see cref="ICacheBackplane"/> delivers.</summary>
public interface ICacheBackplaneSubscriber
{
    /// <summary>A message arrived. Called on the backplane's thread: must not block.</summary>
    void OnMessage(BackplaneMessage message);

    /// <summary>
    /// The backplane lost its connection (or knows it dropped messages) and is delivering again: anything cached
    /// may be stale.
    /// </summary>
    void OnMessagesMayHaveBeenMissed(string reason);
}
