using Microsoft.Extensions.Caching.Distributed;

namespace BuildingBlocks.Caching.Tests.Support;

public enum L2Mode
{
    Working,
    Throwing,
    Hanging,
}

/// <summary>
/// An L2 in front of a real <see cref="IDistributedCache"/> that can be switched to throw or to hang (ignoring
/// cancellation, like a dead TCP connection), and counts every call it receives.
/// </summary>
public sealed class FaultyDistributedCache(IDistributedCache inner) : IDistributedCache
{
    private readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Gate? _pauseNextSet;
    private int _gets;
    private int _sets;
    private int _removes;

    public L2Mode Mode { get; set; }

    public IDistributedCache Inner => inner;

    public int Gets => Volatile.Read(ref _gets);

    public int Sets => Volatile.Read(ref _sets);

    public int Removes => Volatile.Read(ref _removes);

    public int Calls => Gets + Sets + Removes;

    /// <summary>The entry options of the last set.</summary>
    public DistributedCacheEntryOptions? LastSetOptions { get; private set; }

    /// <summary>The next set waits at the returned gate before it reaches the inner cache.</summary>
    public Gate PauseNextSet()
    {
        var gate = new Gate();
        Volatile.Write(ref _pauseNextSet, gate);
        return gate;
    }

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        Interlocked.Increment(ref _gets);
        await FaultAsync();
        return await inner.GetAsync(key, token);
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Interlocked.Increment(ref _sets);
        LastSetOptions = options;
        await FaultAsync();
        if (Interlocked.Exchange(ref _pauseNextSet, null) is { } pause)
        {
            await pause.PassAsync();
        }

        await inner.SetAsync(key, value, options, token);
    }

    public void Refresh(string key) => inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => inner.RefreshAsync(key, token);

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        Interlocked.Increment(ref _removes);
        await FaultAsync();
        await inner.RemoveAsync(key, token);
    }

    private Task FaultAsync() => Mode switch
    {
        L2Mode.Throwing => throw new InvalidOperationException("L2 is unreachable"),
        L2Mode.Hanging => _never.Task,
        _ => Task.CompletedTask,
    };
}
