namespace BuildingBlocks.TaskQueue;

/// <summary>A filter and a page for <see cref="ITaskQueue.ListAsync"/>: tasks in id order after <see cref="AfterId"/>.</summary>
public sealed class TaskQuery
{
    /// <summary>Only tasks of this queue; <see langword="null"/> for every queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Only tasks in this state; <see langword="null"/> for every state.</summary>
    public TaskState? State { get; init; }

    /// <summary>Only tasks with a larger id (keyset paging: pass the last id of the previous page). Default 0.</summary>
    public long AfterId { get; init; }

    /// <summary>The most tasks to return, 1 to 10,000. Default 100.</summary>
    public int Limit { get; init; } = 100;

    /// <summary>Whether to read payloads too (they can be large). Default <see langword="true"/>.</summary>
    public bool IncludePayload { get; init; } = true;

    /// <summary>Throws when the query is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range.</exception>
    public void Validate()
    {
        if (Limit is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(Limit), Limit, $"TaskQuery.Limit must be between 1 and 10000; it was {Limit}.");
        }

        if (AfterId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(AfterId), AfterId, $"TaskQuery.AfterId must be 0 or more; it was {AfterId}.");
        }

        if (State is { } state && !Enum.IsDefined(state))
        {
            throw new ArgumentOutOfRangeException(nameof(State), state, $"TaskQuery.State {(int)state} is not a TaskState.");
        }
    }
}
