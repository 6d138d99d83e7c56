using System.Text.Json;

namespace BuildingBlocks.Sagas;

/// <summary>How the saga coordinator runs. Validated at start-up; a bad value fails the host with a message naming it.</summary>
public sealed class SagaOptions
{
    /// <summary>
    /// The name this coordinator holds leases under; unique per running process. Default: machine name, process id and a
    /// random suffix.
    /// </summary>
    public string CoordinatorId { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Whether this process runs the coordinator (hosted service). <see langword="false"/>: it only starts and queries sagas. Default <see langword="true"/>.</summary>
    public bool RunCoordinator { get; set; } = true;

    /// <summary>
    /// How long a coordinator holds a saga without renewing: after a crash, another coordinator (or this one restarted)
    /// takes the saga over this long after the last renewal. Default 15 s.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often held leases are renewed; less than a third of <see cref="LeaseDuration"/>. Default 4 s.</summary>
    public TimeSpan LeaseRenewalInterval { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>How often the store is asked for sagas to run (started elsewhere, leases expired, retried by an operator). Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most sagas this coordinator runs at once. Default 64.</summary>
    public int MaxConcurrentSagas { get; set; } = 64;

    /// <summary>How long a graceful stop waits for running steps to finish before canceling them. Default 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of actions that set none (<c>.WithRetry</c>). Default: one attempt, no retry.</summary>
    public SagaRetryPolicy DefaultStepRetry { get; set; } = new();

    /// <summary>
    /// Retries of compensations that set none; past the last attempt the saga is parked as
    /// <see cref="SagaStatus.CompensationFailed"/>. Default: 8 attempts, 1 s doubling to 1 min (about 2 minutes of waits in all, ±20% jitter).
    /// </summary>
    public SagaRetryPolicy DefaultCompensationRetry { get; set; } = new() { MaxAttempts = 8, InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromMinutes(1) };

    /// <summary>The time limit of each attempt of steps that set none; <see langword="null"/> for none. Default 5 min.</summary>
    public TimeSpan? DefaultAttemptTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest serialized saga data, in bytes (UTF-8 JSON). Default 1 MiB.</summary>
    public int MaxDataBytes { get; set; } = 1024 * 1024;

    /// <summary>The JSON settings for saga data; <see langword="null"/>: web defaults (with reflection, unless disabled for native AOT).</summary>
    public JsonSerializerOptions? JsonOptions { get; set; }
}
