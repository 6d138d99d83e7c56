using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BuildingBlocks.TaskQueue;

/// <summary>Options of one task queue registration (validated at start-up by <see cref="TaskQueueOptionsValidator"/>).</summary>
public sealed class TaskQueueOptions
{
    /// <summary>How long a claim lasts unless a heartbeat extends it. Default 30 s; at least 1 s.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running task's lease is extended. Default 10 s; must be less than <see cref="LeaseDuration"/>.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often an idle worker looks for due tasks when no wake-up arrives (tasks enqueued by another process, delayed
    /// tasks coming due, retries). Default 1 s.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often expired leases are returned to the queue and statistics refreshed. Default 5 s.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts a task may use when it does not say (each claim is one, a lost lease included). Default 5.</summary>
    public int DefaultMaxAttempts { get; set; } = 5;

    /// <summary>The retry delay after the first failed attempt; it doubles with every attempt. Default 1 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay. Default 10 min.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Random spread of each retry delay, from 0 (none) to 1: the delay is drawn from [d × (1 − j), d × (1 + j)] so
    /// tasks that failed together do not retry together. Default 0.2.
    /// </summary>
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>How long a stopping host waits for running handlers before it cancels them and hands their leases back. Default 20 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long completed and canceled tasks are kept before they are pruned. Default 1 day; <see cref="TimeSpan.Zero"/> prunes at the next sweep.</summary>
    public TimeSpan CompletedRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long dead letters are kept for inspection and redrive. Default 14 days.</summary>
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>The largest payload accepted, in bytes. Default 1 MiB; 1 byte to 1 GiB.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Serializer options for typed payloads. Default: the web defaults (camelCase, case-insensitive reads). For native
    /// AOT, set options whose <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a source-generated context.
    /// </summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = CreateDefaultSerializerOptions();

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault, a feature switch that trimmed and AOT apps set to false, which removes the branch.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault, a feature switch that trimmed and AOT apps set to false, which removes the branch.")]
    private static JsonSerializerOptions CreateDefaultSerializerOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        if (JsonSerializer.IsReflectionEnabledByDefault)
        {
            // Reflection-based contracts unless the app disabled them (native AOT), where a source-generated context is required.
            options.TypeInfoResolver = new DefaultJsonTypeInfoResolver();
        }

        return options;
    }

    /// <summary>This process's worker id, stored with each lease for operators. Default: machine name, process id and a random suffix.</summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
