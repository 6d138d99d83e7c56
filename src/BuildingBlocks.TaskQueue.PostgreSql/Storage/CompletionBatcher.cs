using System.Collections.Concurrent;

namespace BuildingBlocks.TaskQueue.PostgreSql;

/// <summary>
/// Completes many tasks in one statement: completions that arrive while one round trip is in flight wait for it and go
/// together in the next (group completion). Under load that turns one round trip per task into one per batch; a lone
/// completion goes at once.
/// </summary>
internal sealed class CompletionBatcher(Func<long[], long[], CancellationToken, Task<HashSet<long>>> completeBatch)
{
    /// <summary>The most completions one statement carries.</summary>
    private const int MaxBatch = 1_000;

    private readonly ConcurrentQueue<Pending> _pending = new();
    private int _flushing;

    /// <summary>Completes one task; false when its lease was lost (nothing changed).</summary>
    public async ValueTask<bool> CompleteAsync(long taskId, long leaseToken, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(taskId, leaseToken);
        _pending.Enqueue(pending);
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) == 0)
        {
            // One flush loop at a time, off the caller's path, so no caller works for the others indefinitely.
            _ = Task.Run(FlushLoopAsync, CancellationToken.None);
        }

        return await pending.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task FlushLoopAsync()
    {
        do
        {
            try
            {
                while (!_pending.IsEmpty)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref _flushing, 0);
            }

            // A completion queued while the flag was being released would otherwise wait for the next arrival.
        }
        while (!_pending.IsEmpty && Interlocked.CompareExchange(ref _flushing, 1, 0) == 0);
    }

    private async Task FlushAsync()
    {
        var batch = new List<Pending>(Math.Min(_pending.Count, MaxBatch));
        while (batch.Count < MaxBatch && _pending.TryDequeue(out Pending? pending))
        {
            batch.Add(pending);
        }

        if (batch.Count == 0)
        {
            return;
        }

        long[] ids = new long[batch.Count];
        long[] tokens = new long[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            (ids[i], tokens[i]) = (batch[i].TaskId, batch[i].LeaseToken);
        }

        try
        {
            // Not the caller's token: the batch carries other callers' completions too.
            HashSet<long> completed = await completeBatch(ids, tokens, CancellationToken.None).ConfigureAwait(false);
            foreach (Pending pending in batch)
            {
                // A task completed twice in one batch counts once, as two calls one after the other would.
                pending.Result.TrySetResult(completed.Remove(pending.TaskId));
            }
        }
        catch (Exception e)
        {
            foreach (Pending pending in batch)
            {
                pending.Result.TrySetException(e);
            }
        }
    }

    private sealed class Pending(long taskId, long leaseToken)
    {
        public long TaskId { get; } = taskId;

        public long LeaseToken { get; } = leaseToken;

        // Continuations run on the thread pool, not inside the flushing caller's loop.
        public TaskCompletionSource<bool> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
