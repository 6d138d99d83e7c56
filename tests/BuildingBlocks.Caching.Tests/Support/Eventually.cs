namespace BuildingBlocks.Caching.Tests.Support;

/// <summary>
/// Bounded waits for things that happen on other threads. The bound is generous (machines are shared and busy): it
/// only turns a hang into a failure with a message, it never measures speed.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    public static Task TrueAsync(Func<bool> condition, string what) => TrueAsync(condition, what, Limit);

    /// <summary>With a bound of its own, for a condition that holds within milliseconds when the code works.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        while (!condition())
        {
            try
            {
                await Task.Delay(5, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds} s waiting until {what}.");
            }
        }
    }

    public static async Task CompletesAsync(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {Limit.TotalSeconds} s waiting until {what}.");
        }
    }

    public static async Task<T> CompletesAsync<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {Limit.TotalSeconds} s waiting until {what}.");
            throw;
        }
    }

    public static Task CompletesAsync(ValueTask task, string what) => CompletesAsync(task.AsTask(), what);

    public static Task<T> CompletesAsync<T>(ValueTask<T> task, string what) => CompletesAsync(task.AsTask(), what);
}
