namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>Holds a step until the test releases it, and tells the test when a step reached it.</summary>
public sealed class Gate
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _sawCancellation = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReleased => _released.Task.IsCompleted;

    /// <summary>Completes with whether the step's token was canceled while it waited (set once the wait ends).</summary>
    public Task<bool> SawCancellation => _sawCancellation.Task;

    public void Release() => _released.TrySetResult();

    /// <summary>Waits for the release, honouring the step's token.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        _entered.TrySetResult();
        try
        {
            await _released.Task.WaitAsync(cancellationToken);
            _sawCancellation.TrySetResult(false);
        }
        catch (OperationCanceledException)
        {
            _sawCancellation.TrySetResult(true);
            throw;
        }
    }

    /// <summary>Waits for the release and ignores the token (records whether it was canceled meanwhile).</summary>
    public async Task WaitIgnoringTokenAsync(CancellationToken cancellationToken)
    {
        _entered.TrySetResult();
        await _released.Task;
        _sawCancellation.TrySetResult(cancellationToken.IsCancellationRequested);
    }

    /// <summary>Waits (bounded) until a step reached the gate.</summary>
    public Task EnteredAsync(double seconds = 10) =>
        _entered.Task.WaitAsync(TimeSpan.FromSeconds(seconds), TestContext.Current.CancellationToken);
}
