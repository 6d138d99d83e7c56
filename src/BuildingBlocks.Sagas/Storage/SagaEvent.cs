namespace BuildingBlocks.Sagas;

/// <summary>One line of a saga's history. Lines are only appended, numbered 1, 2, 3… per saga.</summary>
public sealed record SagaEvent
{
    /// <summary>The line number within the saga, from 1, without gaps.</summary>
    public required long Sequence { get; init; }

    /// <summary>What happened.</summary>
    public required SagaEventKind Kind { get; init; }

    /// <summary>The step, for step events; otherwise <see langword="null"/>.</summary>
    public string? Step { get; init; }

    /// <summary>The attempt number (from 1) for step and compensation events; otherwise 0.</summary>
    public int Attempt { get; init; }

    /// <summary>When it happened.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>How long the attempt took, for step and compensation events.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>The error or note (exception type and message; operator notes), or <see langword="null"/>.</summary>
    public string? Detail { get; init; }

    /// <summary>The lease token of the coordinator that wrote the line (0 for operator lines and starts without a lease).</summary>
    public long LeaseToken { get; init; }
}
