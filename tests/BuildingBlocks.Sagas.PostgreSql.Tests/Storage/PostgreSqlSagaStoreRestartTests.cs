using System.Globalization;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Storage;

/// <summary>The server dies under a stream of checkpoints: a clear error, and every checkpoint stored whole or not at all.</summary>
/// <remarks>This test kills a server of its own; the shared one must stay up for the other classes.</remarks>
public sealed class PostgreSqlSagaStoreRestartTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ACheckpointWhenTheServerIsKilled_FailsNamingTheServer_AndEveryCheckpointIsStoredWholeOrNotAtAll()
    {
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(Ct);
        string connectionString = await server.CreateDatabaseAsync(cancellationToken: Ct);
        var time = new FakeTimeProvider(Start);
        await using var store = new PostgreSqlSagaStore(new PostgreSqlSagaStoreOptions { ConnectionString = connectionString + ";Timeout=5" }, time);
        Assert.True(await store.CreateAsync(Saga(), [Line(1, 0)], Ct));
        SagaRecord leased = Assert.Single(await store.AcquireAsync("node-a", ["order-fulfilment"], 1, TimeSpan.FromMinutes(5), Ct));

        // Checkpoint n stores data n and lines 2n and 2n + 1; the server is killed once 20 are acknowledged.
        int acknowledged = 0;
        var twentyAcknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task kill = Task.Run(async () =>
        {
            await twentyAcknowledged.Task;
            await server.KillAsync(Ct);
        }, Ct);
        InvalidOperationException? failure = null;
        for (int n = 1; failure is null; n++)
        {
            Assert.True(n < 100_000, "the checkpoints kept succeeding after the server was killed");
            try
            {
                Assert.True(await store.CheckpointAsync(Checkpoint(leased, n), Ct));
                acknowledged = n;
                if (n == 20)
                {
                    twentyAcknowledged.SetResult();
                }
            }
            catch (InvalidOperationException e)
            {
                failure = e;
            }
        }

        await kill;
        Assert.Contains($"port {server.Port}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("could not checkpoint saga 'order-1'", failure.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<Npgsql.NpgsqlException>(failure.InnerException);

        await server.StartAgainAsync(Ct);
        SagaRecord row = (await store.GetAsync("order-1", Ct))!;
        IReadOnlyList<SagaEvent> events = await store.GetEventsAsync("order-1", Ct);

        // The checkpoint in flight at the kill may have committed or not; either way its row change and its lines go together.
        int stored = int.Parse(row.Data, CultureInfo.InvariantCulture);
        Assert.InRange(stored, acknowledged, acknowledged + 1);
        Assert.Equal(Enumerable.Range(1, 1 + (2 * stored)).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.True(await store.CheckpointAsync(Checkpoint(leased, stored + 1), Ct), "the store did not recover after the restart");
    }

    private static SagaRecord Saga() => new()
    {
        Id = "order-1",
        Name = "order-fulfilment",
        Version = 1,
        Status = SagaStatus.Running,
        Data = "0",
        Progress = "",
        CreatedAt = Start,
        UpdatedAt = Start,
    };

    private static SagaEvent Line(long sequence, int checkpoint) => new()
    {
        Sequence = sequence,
        Kind = sequence == 1 ? SagaEventKind.Started : SagaEventKind.StepCompleted,
        Step = sequence == 1 ? null : $"step-{checkpoint}",
        Attempt = 1,
        At = Start,
    };

    private static SagaCheckpoint Checkpoint(SagaRecord leased, int n) => new()
    {
        SagaId = leased.Id,
        LeaseOwner = leased.LeaseOwner!,
        LeaseToken = leased.LeaseToken,
        Status = SagaStatus.Running,
        Data = n.ToString(CultureInfo.InvariantCulture),
        Progress = $"step-{n}",
        UpdatedAt = Start,
        Events = [Line(2 * n, n), Line((2 * n) + 1, n)],
    };
}
