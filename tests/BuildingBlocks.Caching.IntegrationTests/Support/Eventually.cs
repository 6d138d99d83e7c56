using System.Diagnostics;

namespace BuildingBlocks.Caching.IntegrationTests.Support;

/// <summary>Bounded waits for conditions that become true "soon" (no timing is asserted: the bounds are generous).</summary>
public static class Eventually
{
    /// <summary>For conditions that hold within milliseconds on a healthy machine.</summary>
    public static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    /// <summary>For a reconnection to a restarted Redis server (StackExchange.Redis retries with backoff).</summary>
    public static readonly TimeSpan Reconnection = TimeSpan.FromSeconds(90);

    /// <summary>Polls <paramref name="condition"/> until it returns true; fails with <paramref name="describe"/> after <paramref name="timeout"/>.</summary>
    public static async Task<TimeSpan> HoldsAsync(Func<ValueTask<bool>> condition, TimeSpan timeout, Func<string> describe, CancellationToken cancellationToken = default)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return elapsed.Elapsed;
            }

            if (elapsed.Elapsed > timeout)
            {
                Assert.Fail($"Not true within {timeout}: {describe()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken);
        }
    }

    /// <summary>As <see cref="HoldsAsync(Func{ValueTask{bool}}, TimeSpan, Func{string}, CancellationToken)"/> for a synchronous condition.</summary>
    public static Task<TimeSpan> HoldsAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe, CancellationToken cancellationToken = default) =>
        HoldsAsync(() => ValueTask.FromResult(condition()), timeout, describe, cancellationToken);
}
