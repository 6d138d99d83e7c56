namespace BuildingBlocks.Sagas.Sqlite;

/// <summary>
/// One store write waiting for the next transaction. Writes that arrive while a transaction is in progress are
/// committed together by the next one (group commit), each inside its own savepoint, so one write's failure undoes
/// only that write and every caller gets its own result.
/// </summary>
internal abstract class PendingWrite
{
    private const int Waiting = 0;
    private const int Taken = 1;
    private const int Abandoned = 2;

    private int _state;

    protected PendingWrite(CancellationToken cancellationToken) => CancellationToken = cancellationToken;

    public CancellationToken CancellationToken { get; }

    public abstract bool IsCompleted { get; }

    /// <summary>Claims the write for a transaction; false when its caller gave up on it first.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

    /// <summary>Withdraws the write before any transaction took it; false when one already has.</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting;

    /// <summary>Runs the write inside the open transaction and keeps its result until the commit.</summary>
    public abstract void Run(SagaWriter writer, DateTimeOffset now);

    /// <summary>The transaction that ran the write committed: hand the result to the caller.</summary>
    public abstract void Succeed();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

/// <inheritdoc cref="PendingWrite" />
internal sealed class PendingWrite<TState, TResult>(
    TState state,
    Func<SagaWriter, TState, DateTimeOffset, TResult> operation,
    CancellationToken cancellationToken) : PendingWrite(cancellationToken)
{
    // Continuations run on the thread pool, not inside the transaction loop of whoever committed the write.
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TResult? _result;

    public Task<TResult> Task => _completion.Task;

    public override bool IsCompleted => _completion.Task.IsCompleted;

    public override void Run(SagaWriter writer, DateTimeOffset now) => _result = operation(writer, state, now);

    public override void Succeed() => _completion.TrySetResult(_result!);

    public override void Fail(Exception exception) => _completion.TrySetException(exception);

    public override void Cancel() => _completion.TrySetCanceled(CancellationToken);
}
