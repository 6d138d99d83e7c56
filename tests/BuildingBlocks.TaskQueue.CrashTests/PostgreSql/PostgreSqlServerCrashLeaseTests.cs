using System.Diagnostics;
using BuildingBlocks.TaskQueue.PostgreSql;
using BuildingBlocks.Testing;
using Npgsql;

namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>
/// A server crash must never make a lease token valid twice. The token is what fences off a worker that lost its lease
/// ("the store accepts it only while the task is still leased with that token"), so a holder from before the crash must
/// be refused once the task belongs to someone else.
/// </summary>
/// <remarks>
/// Worker writes after a claim may commit with <c>synchronous_commit = off</c> (<see cref="PostgreSqlTaskStoreOptions.SynchronousWorkerCommits"/>
/// off, the default), but a claim never does: a crash that forgot a claim would bring the task back queued with its old
/// token, the next claim would hand out the same token again, and the pre-crash holder's heartbeat, completion or failure
/// would be accepted as the new holder's. Both settings must keep the fence.
/// </remarks>
[Collection(CrashTestGroup.Name)]
public sealed class PostgreSqlServerCrashLeaseTests
{
    private const string Queue = "fence";
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_reclaimTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerCrash_RightAfterAClaim_ThePreCrashHolderIsRefusedOnceTheTaskIsClaimedAgain(bool synchronousWorkerCommits)
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;

        // A server of its own: this test kills it. An asynchronous commit reaches the log file within wal_writer_delay
        // (200 ms by default): the test makes that 10 s, the most PostgreSQL allows, so the crash below lands inside the
        // window however slowly this machine runs the kill. A commit that waits for the flush is not affected.
        await using PostgreSqlServer server = await PostgreSqlServer.StartAsync(cancellationToken);
        var options = new PostgreSqlTaskStoreOptions
        {
            ConnectionString = await server.CreateDatabaseAsync(cancellationToken: cancellationToken),
            Schema = PostgreSqlCrashHost.NewSchema(),
            SynchronousWorkerCommits = synchronousWorkerCommits,
        };
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using NpgsqlCommand command = new("ALTER SYSTEM SET wal_writer_delay = '10s';", admin);
            _ = await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await server.StopAsync(cancellationToken);
        await server.StartAgainAsync(cancellationToken);

        // Enqueue (always durable), claim, and crash the server at once: nothing else writes in between, so nothing
        // else flushes the write-ahead log past the claim.
        long id;
        long staleToken;
        await using (var before = new PostgreSqlTaskStore(options))
        {
            id = (await new TaskQueueClient(before).EnqueueAsync(new NewTask(Queue, "{}"u8.ToArray()), cancellationToken)).TaskId;
            LeasedTask lease = Assert.Single(await before.ClaimAsync(new ClaimRequest(Queue, "before-crash", 1, s_lease), cancellationToken));
            Assert.Equal(id, lease.Id);
            staleToken = lease.LeaseToken;
            await server.KillAsync(cancellationToken);
        }

        await server.StartAgainAsync(cancellationToken);
        await using var after = new PostgreSqlTaskStore(options);
        TaskSnapshot recovered = (await after.GetAsync(id, cancellationToken))!;

        // Whatever the crash kept, the task goes to a new holder: at once if the claim was forgotten, after the sweep of
        // the expired lease if it was kept.
        LeasedTask newLease = await ClaimAgainAsync(after, id, cancellationToken);
        string context =
            $"The task was claimed with token {staleToken} just before the crash; after the restart it was {recovered.State} with token {recovered.LeaseToken} " +
            $"(leased by {recovered.LeasedBy ?? "nobody"}), and the next claim got token {newLease.LeaseToken} (SynchronousWorkerCommits = {synchronousWorkerCommits}).";
        Assert.True(newLease.LeaseToken > staleToken, $"A lease token was issued twice: the crash forgot the claim and the same token went to the next holder. {context}");

        // The pre-crash holder's token changes nothing now.
        Assert.True(await after.HeartbeatAsync(id, staleToken, TimeSpan.FromMinutes(5), "stale", cancellationToken) == LeaseStatus.Lost, $"A stale heartbeat was accepted. {context}");
        Assert.False(await after.CompleteAsync(id, staleToken, cancellationToken), $"A stale completion was accepted. {context}");
        TaskSnapshot task = (await after.GetAsync(id, cancellationToken))!;
        Assert.Equal(TaskState.Leased, task.State);
        Assert.Equal("after-crash", task.LeasedBy);
        Assert.Equal(newLease.LeaseToken, task.LeaseToken);
        Assert.True(await after.CompleteAsync(id, newLease.LeaseToken, cancellationToken), context);
    }

    private static async Task<LeasedTask> ClaimAgainAsync(PostgreSqlTaskStore store, long id, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            _ = await store.RecoverExpiredLeasesAsync(cancellationToken);
            if ((await store.ClaimAsync(new ClaimRequest(Queue, "after-crash", 1, TimeSpan.FromMinutes(5)), cancellationToken)).SingleOrDefault() is { } lease)
            {
                Assert.Equal(id, lease.Id);
                return lease;
            }

            TaskSnapshot? task = await store.GetAsync(id, cancellationToken);
            Assert.True(deadline.Elapsed < s_reclaimTimeout, $"After {s_reclaimTimeout.TotalSeconds} s the task could not be claimed again: {(task is null ? "missing" : PostgreSqlCrashHost.Describe(task))}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }
}
