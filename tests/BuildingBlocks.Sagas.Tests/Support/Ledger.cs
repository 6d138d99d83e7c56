namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>One call of a step's action or compensation, as the service it calls would see it.</summary>
public sealed record LedgerEntry(string SagaId, string Step, SagaDirection Direction, int Attempt, string IdempotencyKey);

/// <summary>
/// A recording "downstream service": every step attempt in the tests calls it with its idempotency key, so tests see what
/// ran, in which order, with which attempt number and key, and how many times.
/// </summary>
public sealed class Ledger
{
    private readonly Lock _gate = new();
    private readonly List<LedgerEntry> _entries = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Record<TData>(SagaStepContext<TData> context)
        where TData : class
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _entries.Add(new LedgerEntry(context.SagaId, context.StepName, context.Direction, context.Attempt, context.IdempotencyKey));
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public IReadOnlyList<LedgerEntry> Entries(string sagaId)
    {
        lock (_gate)
        {
            return [.. _entries.Where(e => e.SagaId == sagaId)];
        }
    }

    /// <summary>The steps whose action was called, one name per attempt, in call order.</summary>
    public IReadOnlyList<string> Forward(string sagaId) => [.. Entries(sagaId).Where(e => e.Direction == SagaDirection.Forward).Select(e => e.Step)];

    /// <summary>The steps whose compensation was called, one name per attempt, in call order.</summary>
    public IReadOnlyList<string> Compensations(string sagaId) => [.. Entries(sagaId).Where(e => e.Direction == SagaDirection.Compensation).Select(e => e.Step)];

    public IReadOnlyList<LedgerEntry> Attempts(string sagaId, string step, SagaDirection direction = SagaDirection.Forward) =>
        [.. Entries(sagaId).Where(e => e.Step == step && e.Direction == direction)];

    /// <summary>Waits (real time, bounded) until <paramref name="condition"/> holds over the entries.</summary>
    public async Task WaitUntilAsync(Func<Ledger, bool> condition, string what, double seconds = 10)
    {
        using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (condition(this))
            {
                return;
            }

            try
            {
                await changed.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"Timed out after {seconds} s waiting until {what}.");
            }
        }
    }

    /// <summary>An action or compensation that records the call and succeeds.</summary>
    public Func<SagaStepContext<TData>, CancellationToken, Task> Ok<TData>()
        where TData : class =>
        (context, _) =>
        {
            Record(context);
            return Task.CompletedTask;
        };

    /// <summary>An action or compensation that records the call and throws what <paramref name="error"/> gives (null: succeed).</summary>
    public Func<SagaStepContext<TData>, CancellationToken, Task> Fails<TData>(Func<SagaStepContext<TData>, Exception?> error)
        where TData : class =>
        (context, _) =>
        {
            Record(context);
            return error(context) is { } exception ? Task.FromException(exception) : Task.CompletedTask;
        };

    /// <summary>Records the call and fails for good.</summary>
    public Func<SagaStepContext<TData>, CancellationToken, Task> FailsForGood<TData>(string message = "refused")
        where TData : class =>
        Fails<TData>(_ => new PermanentStepFailureException(message));
}
