namespace BuildingBlocks.TaskQueue;

/// <summary>
/// The queued tasks of one queue in claim order: due tasks by (priority desc, run-at, id), delayed tasks by run-at
/// until they come due. Entries go stale when a task leaves the queued state (canceled); they are skipped lazily.
/// </summary>
internal sealed class QueueIndex
{
    private readonly PriorityQueue<Entry, ReadyOrder> _ready = new();
    private readonly PriorityQueue<Entry, long> _delayed = new();

    public void Enqueue(StoredTask task)
    {
        task.QueueStamp++;
        var entry = new Entry(task, task.QueueStamp);
        _delayed.Enqueue(entry, task.RunAt.UtcTicks);
    }

    /// <summary>Removes and returns the next due task, or <see langword="null"/> when none is due at <paramref name="nowTicks"/>.</summary>
    public StoredTask? TakeDue(long nowTicks)
    {
        while (_delayed.TryPeek(out Entry delayed, out long runAt) && runAt <= nowTicks)
        {
            _delayed.Dequeue();
            if (delayed.IsCurrent)
            {
                _ready.Enqueue(delayed, new ReadyOrder(delayed.Task.Priority, runAt, delayed.Task.Id));
            }
        }

        while (_ready.TryDequeue(out Entry entry, out _))
        {
            if (entry.IsCurrent)
            {
                return entry.Task;
            }
        }

        return null;
    }

    private readonly record struct Entry(StoredTask Task, int Stamp)
    {
        public bool IsCurrent => Task.State == TaskState.Queued && Task.QueueStamp == Stamp;
    }

    private readonly record struct ReadyOrder(int Priority, long RunAtTicks, long Id) : IComparable<ReadyOrder>
    {
        public int CompareTo(ReadyOrder other)
        {
            int byPriority = other.Priority.CompareTo(Priority);
            if (byPriority != 0)
            {
                return byPriority;
            }

            int byRunAt = RunAtTicks.CompareTo(other.RunAtTicks);
            return byRunAt != 0 ? byRunAt : Id.CompareTo(other.Id);
        }
    }
}
