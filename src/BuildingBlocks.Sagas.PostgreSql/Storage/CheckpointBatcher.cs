using System.Collections.Concurrent;

namespace BuildingBlocks.Sagas.PostgreSql;

/// <summary>
/// Group commit for checkpoints: checkpoints that arrive while one write is in flight wait for it and go together in the
/// next, in one round trip and one transaction, each with its own fenced result. A lone checkpoint goes at once, on the
/// caller's own path, as the single statement it always was.
/// </summary>
/// <remarks>
/// When a batch fails (one checkpoint repeats a stored sequence number, the connection breaks, a deadlock), nothing of it
/// was committed and its checkpoints are written again one by one, each in its own transaction, so every caller gets the
/// result or the exception its checkpoint would have had alone. A batch whose connection broke while committing is in
/// doubt, as a lone statement would be; writing it again is safe: the updates are fenced and repeat what was written,
/// and repeated history lines are refused by the events' primary key (reported to the caller as a failure).
/// </remarks>
internal sealed class CheckpointBatcher(
    Func<SagaCheckpoint, Task<bool>> writeOne,
    Func<IReadOnlyList<SagaCheckpoint>, Task<bool[]>> writeBatch,
    Func<Exception> disposed)
{
    /// <summary>The most checkpoints one transaction carries.</summary>
    public const int MaxBatch = 256;

    private readonly ConcurrentQueue<Pending> _pending = new();
    private int _writing;
    private volatile bool _closed;
    private long _transactions;
    private long _batchesRetried;

    /// <summary>Transactions written for checkpoints so far (a batch and a lone checkpoint count one each), for tests.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Batches that failed and were written again one by one, for tests.</summary>
    public long BatchesRetried => Interlocked.Read(ref _batchesRetried);

    /// <summary>Writes one checkpoint, alone or with the others queued at the same time.</summary>
    public async ValueTask<bool> WriteAsync(SagaCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(checkpoint);
        using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static (state, token) => ((Pending)state!).Cancel(token), pending)
            : default;
        _pending.Enqueue(pending);
        if (_closed)
        {
            // Disposed meanwhile: the dispose may have drained the queue before this checkpoint joined it.
            FailQueued();
        }
        else if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            // Nobody is writing: this caller writes at once (no thread hop for a lone checkpoint), then hands whatever
            // queued up meanwhile to a loop off its path, so no caller works for the others indefinitely.
            await WriteBatchAsync().ConfigureAwait(false);
            if (!_pending.IsEmpty)
            {
                _ = Task.Run(WriteLoopAsync, CancellationToken.None);
            }
            else
            {
                ReleaseWriter();
            }
        }

        return await pending.Result.Task.ConfigureAwait(false);
    }

    /// <summary>Stops taking checkpoints: those still queued (not yet sent) fail with the exception of a disposed store.</summary>
    public void Close()
    {
        _closed = true;
        FailQueued();
    }

    private void FailQueued()
    {
        while (_pending.TryDequeue(out Pending? pending))
        {
            if (pending.TryTake())
            {
                pending.Result.TrySetException(disposed());
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        while (!_pending.IsEmpty)
        {
            await WriteBatchAsync().ConfigureAwait(false);
        }

        ReleaseWriter();
    }

    /// <summary>Lets the next arrival write; a checkpoint queued while the flag was being released is not left waiting.</summary>
    private void ReleaseWriter()
    {
        Volatile.Write(ref _writing, 0);
        if (!_pending.IsEmpty && Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            _ = Task.Run(WriteLoopAsync, CancellationToken.None);
        }
    }

    /// <summary>Writes the next batch; never throws (every failure goes to the callers it concerns).</summary>
    private async Task WriteBatchAsync()
    {
        var batch = new List<Pending>(Math.Min(_pending.Count, MaxBatch));
        while (batch.Count < MaxBatch && _pending.TryDequeue(out Pending? pending))
        {
            // Callers canceled while queued already have their answer; they are not sent.
            if (pending.TryTake())
            {
                batch.Add(pending);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        if (batch.Count == 1)
        {
            await WriteAloneAsync(batch[0]).ConfigureAwait(false);
            return;
        }

        // Rows are locked in id order (as renewals lock them), so two batches never wait for each other in a cycle; the
        // sort is stable, so two checkpoints of one saga keep their order.
        Pending[] ordered = [.. batch.OrderBy(static p => p.Checkpoint.SagaId, StringComparer.Ordinal)];
        bool[] results;
        try
        {
            _ = Interlocked.Increment(ref _transactions);
            results = await writeBatch([.. ordered.Select(static p => p.Checkpoint)]).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The transaction was rolled back: write each checkpoint alone, so only the faulty one fails.
            _ = Interlocked.Increment(ref _batchesRetried);
            foreach (Pending pending in ordered)
            {
                await WriteAloneAsync(pending).ConfigureAwait(false);
            }

            return;
        }

        for (int i = 0; i < ordered.Length; i++)
        {
            ordered[i].Result.TrySetResult(results[i]);
        }
    }

    private async Task WriteAloneAsync(Pending pending)
    {
        try
        {
            _ = Interlocked.Increment(ref _transactions);
            pending.Result.TrySetResult(await writeOne(pending.Checkpoint).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            pending.Result.TrySetException(e);
        }
    }

    private sealed class Pending(SagaCheckpoint checkpoint)
    {
        private const int Queued = 0;
        private const int Taken = 1;
        private const int Canceled = 2;

        private int _state;

        public SagaCheckpoint Checkpoint { get; } = checkpoint;

        // Continuations run on the thread pool, not inside the writing loop.
        public TaskCompletionSource<bool> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Claims the checkpoint for sending (or for failing at dispose); false when its caller canceled first.</summary>
        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

        /// <summary>Answers the caller canceled, unless the checkpoint was already sent (then the real result follows).</summary>
        public void Cancel(CancellationToken cancellationToken)
        {
            if (Interlocked.CompareExchange(ref _state, Canceled, Queued) == Queued)
            {
                Result.TrySetCanceled(cancellationToken);
            }
        }
    }
}
