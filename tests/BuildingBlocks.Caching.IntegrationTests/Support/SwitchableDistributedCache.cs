using Microsoft.Extensions.Caching.Distributed;

namespace BuildingBlocks.Caching.IntegrationTests.Support;

/// <summary>A node's real L2 that can be told to fail its next calls (a blip on that node's Redis connection only).</summary>
public sealed class SwitchableDistributedCache(IDistributedCache inner) : IDistributedCache
{
    private int _failures;

    /// <summary>The next <paramref name="count"/> calls throw.</summary>
    public void FailNext(int count) => Volatile.Write(ref _failures, count);

    public byte[]? Get(string key)
    {
        ThrowIfFailing();
        return inner.Get(key);
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ThrowIfFailing();
        return inner.GetAsync(key, token);
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ThrowIfFailing();
        inner.Set(key, value, options);
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ThrowIfFailing();
        return inner.SetAsync(key, value, options, token);
    }

    public void Refresh(string key)
    {
        ThrowIfFailing();
        inner.Refresh(key);
    }

    public Task RefreshAsync(string key, CancellationToken token = default)
    {
        ThrowIfFailing();
        return inner.RefreshAsync(key, token);
    }

    public void Remove(string key)
    {
        ThrowIfFailing();
        inner.Remove(key);
    }

    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        ThrowIfFailing();
        return inner.RemoveAsync(key, token);
    }

    private void ThrowIfFailing()
    {
        while (true)
        {
            int left = Volatile.Read(ref _failures);
            if (left <= 0)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _failures, left - 1, left) == left)
            {
                throw new TimeoutException("The test made this L2 call fail (a blip on this node's Redis connection).");
            }
        }
    }
}
