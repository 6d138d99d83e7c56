namespace BuildingBlocks.Caching.Tests.Support;

/// <summary>
/// Holds whoever passes it until the test releases it, and tells the test when someone is waiting: the way a test
/// pins one side of a race at an exact point without sleeping.
/// </summary>
public sealed class Gate
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiters;

    /// <summary>How many callers reached the gate (released or not).</summary>
    public int Waiters => Volatile.Read(ref _waiters);

    public bool IsReleased => _released.Task.IsCompleted;

    public void Release() => _released.TrySetResult();

    /// <summary>Waits (bounded) until at least one caller is held at the gate.</summary>
    public Task WaitUntilEnteredAsync(string what = "a caller reaches the gate") => Eventually.CompletesAsync(_entered.Task, what);

    /// <summary>Waits (bounded) until <paramref name="count"/> callers reached the gate.</summary>
    public Task WaitUntilWaitersAsync(int count) => Eventually.TrueAsync(() => Waiters >= count, $"{count} callers reach the gate");

    /// <summary>Called by the held side: returns once the gate is released. Ignores cancellation on purpose (a hung call).</summary>
    public Task PassAsync()
    {
        Interlocked.Increment(ref _waiters);
        _entered.TrySetResult();
        return _released.Task;
    }
}
