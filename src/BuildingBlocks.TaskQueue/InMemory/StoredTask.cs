namespace BuildingBlocks.TaskQueue;

/// <summary>One task's mutable state inside <see cref="InMemoryTaskStore"/> (guarded by the store's lock).</summary>
internal sealed class StoredTask
{
    public StoredTask(long id, TaskInsert insert)
    {
        Id = id;
        Queue = insert.Queue;
        Payload = insert.Payload.ToArray();
        Priority = insert.Priority;
        EnqueuedAt = insert.EnqueuedAt;
        RunAt = insert.RunAt;
        MaxAttempts = insert.MaxAttempts;
        UniqueKey = insert.UniqueKey;
        TraceParent = insert.TraceParent;
    }

    public long Id { get; }

    public string Queue { get; }

    public byte[] Payload { get; }

    public int Priority { get; }

    public DateTimeOffset EnqueuedAt { get; }

    public int MaxAttempts { get; }

    public string? UniqueKey { get; }

    public string? TraceParent { get; }

    public TaskState State { get; set; }

    public DateTimeOffset RunAt { get; set; }

    public int Attempts { get; set; }

    public long LeaseToken { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    public string? LeasedBy { get; set; }

    public string? Progress { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public bool CancelRequested { get; set; }

    /// <summary>Grows each time the task enters a queue index, so stale index entries can be told apart.</summary>
    public int QueueStamp { get; set; }

    public TaskSnapshot ToSnapshot(bool includePayload) => new()
    {
        Id = Id,
        Queue = Queue,
        State = State,
        Payload = includePayload ? Payload : ReadOnlyMemory<byte>.Empty,
        Priority = Priority,
        Attempts = Attempts,
        MaxAttempts = MaxAttempts,
        EnqueuedAt = EnqueuedAt,
        RunAt = RunAt,
        LeaseToken = LeaseToken,
        LeaseExpiresAt = State == TaskState.Leased ? LeaseExpiresAt : null,
        LeasedBy = LeasedBy,
        Progress = Progress,
        LastError = LastError,
        FinishedAt = FinishedAt,
        CancelRequested = CancelRequested,
        UniqueKey = UniqueKey,
    };
}
