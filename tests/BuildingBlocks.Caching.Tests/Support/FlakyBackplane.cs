namespace BuildingBlocks.Caching.Tests.Support;

/// <summary>An <see cref="InMemoryCacheBackplane"/> whose publishing can be made to fail (the connection is down).</summary>
public sealed class FlakyBackplane : ICacheBackplane
{
    private int _failedPublishes;
    private volatile bool _failing;

    public InMemoryCacheBackplane Inner { get; } = new();

    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public int FailedPublishes => Volatile.Read(ref _failedPublishes);

    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        if (_failing)
        {
            Interlocked.Increment(ref _failedPublishes);
            throw new InvalidOperationException("The backplane connection is down.");
        }

        return Inner.PublishAsync(message, cancellationToken);
    }

    public ValueTask<IAsyncDisposable> SubscribeAsync(ICacheBackplaneSubscriber subscriber, CancellationToken cancellationToken) =>
        Inner.SubscribeAsync(subscriber, cancellationToken);
}
