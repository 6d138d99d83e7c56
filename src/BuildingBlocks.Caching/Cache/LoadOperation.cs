namespace BuildingBlocks.Caching;

/// <summary>
/// One load in flight for one key: concurrent misses await it (stampede protection), and a write or an invalidation
/// of the key marks it so its result, read before the write, is returned to its callers but never cached.
/// </summary>
internal sealed class LoadOperation<TValue>
{
    private readonly Lock _gate = new();
    private bool _invalidated;

    public TaskCompletionSource<LoadResult<TValue>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsInvalidated
    {
        get
        {
            lock (_gate)
            {
                return _invalidated;
            }
        }
    }

    /// <summary>Marks the load stale; after this, <see cref="TryPublish"/> will not run its action.</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _invalidated = true;
        }
    }

    /// <summary>Runs <paramref name="publish"/> (put the loaded value in L1) unless the load was invalidated, atomically.</summary>
    public bool TryPublish<TState>(Action<TState> publish, TState state)
    {
        lock (_gate)
        {
            if (_invalidated)
            {
                return false;
            }

            publish(state);
            return true;
        }
    }
}
