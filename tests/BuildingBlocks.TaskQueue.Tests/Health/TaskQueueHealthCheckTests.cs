// Queue calls here are bounded by explicit waits (WaitForStateAsync, WaitAsync with a timeout), not by the test token.
#pragma warning disable xUnit1051

using System.Text;
using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Tests.Health;

public sealed class TaskQueueHealthCheckTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero));

    private (TaskQueueClient Client, InMemoryTaskStore Store) CreateQueue()
    {
        var store = new InMemoryTaskStore(_time);
        return (new TaskQueueClient(store, new TaskQueueOptions(), _time, notifier: null, meterFactory: null), store);
    }

    private async Task<HealthCheckResult> CheckAsync(ITaskQueue queue, Action<TaskQueueHealthCheckOptions>? configure = null)
    {
        var options = new TaskQueueHealthCheckOptions();
        configure?.Invoke(options);
        var check = new TaskQueueHealthCheck(queue, options, _time);
        var registration = new HealthCheckRegistration("taskqueue", check, HealthStatus.Unhealthy, tags: null);
        return await check.CheckHealthAsync(new HealthCheckContext { Registration = registration }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task FreshQueue_IsHealthy()
    {
        (TaskQueueClient client, _) = CreateQueue();
        await client.EnqueueAsync(new NewTask("q", Encoding.UTF8.GetBytes("x")));

        HealthCheckResult result = await CheckAsync(client);

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Contains("ready 1", (string)result.Data["q"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DueTaskWaitingLongerThanTheLimit_IsReportedAsStuck()
    {
        (TaskQueueClient client, _) = CreateQueue();
        await client.EnqueueAsync(new NewTask("no-handler", Encoding.UTF8.GetBytes("x")));
        _time.Advance(TimeSpan.FromMinutes(6));

        HealthCheckResult result = await CheckAsync(client);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("'no-handler': 1 due tasks, the oldest waiting 360 s", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetters_AreReportedAsDegraded()
    {
        (TaskQueueClient client, InMemoryTaskStore store) = CreateQueue();
        await client.EnqueueAsync(new NewTask("payments", Encoding.UTF8.GetBytes("x")));
        TaskLease lease = Assert.Single(await client.ClaimAsync("payments", 1, TestContext.Current.CancellationToken));
        await lease.FailAsync(new InvalidOperationException("declined"), permanent: true, TestContext.Current.CancellationToken);

        HealthCheckResult result = await CheckAsync(client);
        HealthCheckResult tolerant = await CheckAsync(client, o => o.MaxDeadLetters = 1);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("'payments': 1 dead letters (limit 0)", result.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, tolerant.Status);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task UnreadableStore_IsUnhealthy_WithTheError()
    {
        var check = new TaskQueueHealthCheck(new TaskQueueClient(new FailingStore()), new TaskQueueHealthCheckOptions(), _time);
        var registration = new HealthCheckRegistration("taskqueue", check, HealthStatus.Unhealthy, tags: null);

        HealthCheckResult result = await check.CheckHealthAsync(new HealthCheckContext { Registration = registration }, TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.IsType<TaskStoreException>(result.Exception);
    }

    private sealed class FailingStore : ITaskStore
    {
        private static TaskStoreException Down => new("the database is down");

        public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<TaskInsert> tasks, CancellationToken cancellationToken) => throw Down;

        public ValueTask<IReadOnlyList<LeasedTask>> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken) => throw Down;

        public ValueTask<LeaseStatus> HeartbeatAsync(long taskId, long leaseToken, TimeSpan leaseDuration, string? progress, CancellationToken cancellationToken) => throw Down;

        public ValueTask<bool> CompleteAsync(long taskId, long leaseToken, CancellationToken cancellationToken) => throw Down;

        public ValueTask<bool> FailAsync(long taskId, long leaseToken, TaskFailure failure, CancellationToken cancellationToken) => throw Down;

        public ValueTask<bool> ReleaseAsync(long taskId, long leaseToken, CancellationToken cancellationToken) => throw Down;

        public ValueTask<bool> AcknowledgeCancelAsync(long taskId, long leaseToken, CancellationToken cancellationToken) => throw Down;

        public ValueTask<CancelResult> CancelAsync(long taskId, CancellationToken cancellationToken) => throw Down;

        public ValueTask<SweepResult> RecoverExpiredLeasesAsync(CancellationToken cancellationToken) => throw Down;

        public ValueTask<TaskSnapshot?> GetAsync(long taskId, CancellationToken cancellationToken) => throw Down;

        public ValueTask<IReadOnlyList<TaskSnapshot>> ListAsync(TaskQuery query, CancellationToken cancellationToken) => throw Down;

        public ValueTask<bool> RedriveAsync(long taskId, CancellationToken cancellationToken) => throw Down;

        public ValueTask<int> RedriveQueueAsync(string queue, CancellationToken cancellationToken) => throw Down;

        public ValueTask<int> PruneAsync(DateTimeOffset finishedBefore, DateTimeOffset deadLetteredBefore, CancellationToken cancellationToken) => throw Down;

        public ValueTask<IReadOnlyList<QueueStatistics>> GetStatisticsAsync(CancellationToken cancellationToken) => throw Down;
    }
}
