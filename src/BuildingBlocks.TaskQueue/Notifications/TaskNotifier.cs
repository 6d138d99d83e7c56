using System.Collections.Concurrent;

namespace BuildingBlocks.TaskQueue;

/// <summary>
/// Wakes idle workers the moment a task arrives, instead of at their next poll. In process, the client notifies it
/// after every enqueue; a store that can hear other processes (PostgreSQL LISTEN/NOTIFY) notifies it too.
/// </summary>
public sealed class TaskNotifier
{
    private readonly ConcurrentDictionary<string, Signal> _signals = new(StringComparer.Ordinal);

    /// <summary>Signals that tasks may be ready in <paramref name="queue"/>; wakes its waiting workers.</summary>
    /// <param name="queue">The queue name.</param>
    public void Notify(string queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        _signals.GetOrAdd(queue, static _ => new Signal()).Set();
    }

    /// <summary>Signals every queue (for example after a reconnect, when notifications may have been missed).</summary>
    public void NotifyAll()
    {
        foreach (Signal signal in _signals.Values)
        {
            signal.Set();
        }
    }

    /// <summary>Waits until <paramref name="queue"/> is notified or <paramref name="timeout"/> passes.</summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="timeProvider">The clock that measures the timeout.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> when notified, <see langword="false"/> when the timeout passed.</returns>
    public async ValueTask<bool> WaitAsync(string queue, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Signal signal = _signals.GetOrAdd(queue, static _ => new Signal());
        TaskCompletionSource current = signal.Current;
        if (!current.Task.IsCompleted)
        {
            try
            {
                await current.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        signal.Consume(current);
        return true;
    }

    /// <summary>An auto-reset signal: a notification with nobody waiting is kept for the next wait.</summary>
    private sealed class Signal
    {
        private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Current => Volatile.Read(ref _current);

        public void Set() => Volatile.Read(ref _current).TrySetResult();

        /// <summary>Replaces a fired signal so the next wait needs a new notification.</summary>
        public void Consume(TaskCompletionSource fired) =>
            Interlocked.CompareExchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), fired);
    }
}
