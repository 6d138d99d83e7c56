namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>Bounded real-time polling for conditions the coordinator brings about on its own threads.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, Func<string> what, double seconds = 10)
    {
        using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(seconds));
        while (!await condition())
        {
            try
            {
                await Task.Delay(10, limit.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"Timed out after {seconds} s waiting until {what()}.");
            }
        }
    }

    public static Task HoldsAsync(Func<bool> condition, string what, double seconds = 10) =>
        HoldsAsync(() => Task.FromResult(condition()), () => what, seconds);

    /// <summary>
    /// Gives the coordinator threads a moment (real time) to do what they must NOT do, for checks that something did not
    /// happen. Not a timing assertion: a correct implementation passes however long this takes.
    /// </summary>
    public static Task QuietPeriodAsync(int milliseconds = 150) => Task.Delay(milliseconds, TestContext.Current.CancellationToken);
}
