using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BuildingBlocks.TaskQueue;

/// <summary>What a handler knows about the task it runs: payload, attempt, earlier progress, and its lease.</summary>
public sealed class TaskContext
{
    private readonly TaskExecution _execution;

    internal TaskContext(TaskExecution execution, IServiceProvider services)
    {
        _execution = execution;
        Services = services;
    }

    /// <summary>The task id: stable across attempts, so use it as the idempotency key of the task's side effects.</summary>
    public long TaskId => Task.Id;

    /// <summary>The queue name.</summary>
    public string Queue => Task.Queue;

    /// <summary>The raw payload.</summary>
    public ReadOnlyMemory<byte> Payload => Task.Payload;

    /// <summary>This attempt's number, starting at 1.</summary>
    public int Attempt => Task.Attempt;

    /// <summary>How many attempts the task may use.</summary>
    public int MaxAttempts => Task.MaxAttempts;

    /// <summary>Progress an earlier attempt attached to a heartbeat (resume from it), or <see langword="null"/>.</summary>
    public string? PreviousProgress => Task.Progress;

    /// <summary>The error of the previous failed attempt, or <see langword="null"/>.</summary>
    public string? LastError => Task.LastError;

    /// <summary>The claimed task with its lease.</summary>
    public LeasedTask Task => _execution.Task;

    /// <summary>The DI scope of this attempt.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Reads the payload as JSON of type <typeparamref name="T"/> with <see cref="TaskQueueOptions.SerializerOptions"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <returns>The payload.</returns>
    /// <exception cref="TaskPayloadException">The payload is not valid JSON for <typeparamref name="T"/> (the task is dead-lettered when this escapes the handler).</exception>
    public T GetPayload<T>()
    {
        try
        {
            var typeInfo = (JsonTypeInfo<T>)_execution.SerializerOptions.GetTypeInfo(typeof(T));
            return JsonSerializer.Deserialize(Payload.Span, typeInfo)!;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new TaskPayloadException(TaskId, typeof(T), e);
        }
    }

    /// <summary>Sets progress details that the next heartbeat stores; a later attempt reads them as <see cref="PreviousProgress"/>.</summary>
    /// <param name="progress">The progress details (for example a JSON checkpoint), or <see langword="null"/> to send nothing new.</param>
    public void SetProgress(string? progress) => _execution.PendingProgress = progress;

    /// <summary>Extends the lease now and stores the pending progress, instead of waiting for the automatic heartbeat.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the heartbeat is stored.</returns>
    /// <exception cref="LeaseLostException">The lease is no longer held; stop working on the task.</exception>
    public ValueTask HeartbeatAsync(CancellationToken cancellationToken = default) => _execution.HeartbeatAsync(cancellationToken);
}
