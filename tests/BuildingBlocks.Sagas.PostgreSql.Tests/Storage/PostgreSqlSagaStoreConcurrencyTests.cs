using System.Collections.Concurrent;
using BuildingBlocks.Sagas.PostgreSql.Tests.Support;
using BuildingBlocks.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildingBlocks.Sagas.PostgreSql.Tests.Storage;

/// <summary>
/// Two stores with their own data sources on one schema are two coordinator machines: they race acquisitions, and a
/// stale holder writes while another takes its sagas over. Both share one fake clock, as synchronized machines would.
/// </summary>
public sealed class PostgreSqlSagaStoreConcurrencyTests(PostgreSqlFixture fixture) : StoreFactory(fixture)
{
    private static readonly TimeSpan LeaseLength = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TwoNodesRacingAcquire_Over500Sagas_LeaseEachExactlyOncePerRound_AndEveryTakeoverRaisesTheTokenByOne()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var time = new FakeTimeProvider(Start);
        PostgreSqlSagaStore[] nodes = [CreateStore(schema, time), CreateStore(schema, time)];
        string[] ids = await CreateManyAsync(nodes[0], 500, Start);
        Dictionary<string, SagaRecord> previous = [];

        for (int round = 1; round <= 3; round++)
        {
            // Four acquirers per node, each taking small batches until nothing is left.
            var won = new ConcurrentBag<(string Acquirer, SagaRecord Saga)>();
            Task[] acquirers =
            [
                .. from node in Enumerable.Range(0, 2)
                   from worker in Enumerable.Range(0, 4)
                   select Task.Run(async () =>
                   {
                       string acquirer = $"node-{node}-worker-{worker}-round-{round}";
                       while (await nodes[node].AcquireAsync(acquirer, Names, 7, LeaseLength, Ct) is { Count: > 0 } batch)
                       {
                           foreach (SagaRecord saga in batch)
                           {
                               won.Add((acquirer, saga));
                           }
                       }
                   }, Ct),
            ];
            await Task.WhenAll(acquirers);

            Assert.Equal(ids, won.Select(w => w.Saga.Id).Order(StringComparer.Ordinal));
            foreach ((string acquirer, SagaRecord saga) in won)
            {
                Assert.Equal(acquirer, saga.LeaseOwner);
                Assert.Equal(round, saga.LeaseToken);
                Assert.Equal(time.GetUtcNow() + LeaseLength, saga.LeaseExpiresAt);
                if (previous.TryGetValue(saga.Id, out SagaRecord? before))
                {
                    Assert.Equal(before.LeaseToken + 1, saga.LeaseToken);
                }

                previous[saga.Id] = saga;
            }

            // What they were handed is what the table holds.
            IReadOnlyList<SagaRecord> stored = [.. (await nodes[1].QueryAsync(new SagaQuery { Limit = 1_000 }, Ct))];
            Assert.Equal(previous.Values.OrderBy(s => s.Id, StringComparer.Ordinal), stored);

            // Every lease expires: the next round is a takeover of all of them.
            time.Advance(LeaseLength);
        }
    }

    [Theory]
    [InlineData("node-b")]
    [InlineData("node-a")] // the same coordinator id on another machine (or after a restart): only the token tells them apart
    public async Task AStaleHoldersCheckpoint_AfterTheTakeover_IsRefused_AndLeavesTheRowAndHistoryUntouched(string newOwner)
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var time = new FakeTimeProvider(Start);
        PostgreSqlSagaStore a = CreateStore(schema, time);
        PostgreSqlSagaStore b = CreateStore(schema, time);
        _ = await CreateManyAsync(a, 20, Start);
        IReadOnlyList<SagaRecord> heldByA = await a.AcquireAsync("node-a", Names, 20, LeaseLength, Ct);
        time.Advance(LeaseLength);
        IReadOnlyList<SagaRecord> takenByB = await b.AcquireAsync(newOwner, Names, 20, LeaseLength, Ct);
        Assert.Equal(heldByA.Select(s => (s.Id, s.LeaseToken + 1)), takenByB.Select(s => (s.Id, s.LeaseToken)));

        foreach (SagaRecord stale in heldByA)
        {
            SagaRecord? rowBefore = await b.GetAsync(stale.Id, Ct);
            IReadOnlyList<SagaEvent> eventsBefore = await b.GetEventsAsync(stale.Id, Ct);

            bool written = await a.CheckpointAsync(
                Checkpoint(stale, "{\"stale\":true}", time.GetUtcNow(), Line(2, time.GetUtcNow(), stale.LeaseToken)) with { ReleaseLease = stale.Id.EndsWith('7') },
                Ct);
            IReadOnlyList<string> lost = await a.RenewLeasesAsync("node-a", [new SagaLease(stale.Id, stale.LeaseToken)], LeaseLength, Ct);
            await a.ReleaseLeasesAsync("node-a", [new SagaLease(stale.Id, stale.LeaseToken)], Ct);

            Assert.False(written, $"{stale.Id}: the stale holder's checkpoint was applied");
            Assert.Equal([stale.Id], lost);
            Assert.Equal(rowBefore, await b.GetAsync(stale.Id, Ct));
            Assert.Equal(eventsBefore, await b.GetEventsAsync(stale.Id, Ct));
        }
    }

    [Theory]
    [InlineData("node-b", "checkpoint")]
    [InlineData("node-a", "checkpoint")]
    [InlineData("node-b", "renew")]
    [InlineData("node-a", "renew")]
    [InlineData("node-b", "release")]
    [InlineData("node-a", "release")]
    public async Task AStaleHoldersWrite_WaitingOnTheTakeoversRowLock_IsRefusedOnceTheTakeoverCommits(string newOwner, string write)
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var time = new FakeTimeProvider(Start);
        PostgreSqlSagaStore a = CreateStore(schema, time);
        Assert.True(await a.CreateAsync(Saga("s1", Start), [Line(1, Start, kind: SagaEventKind.Started)], Ct));
        SagaRecord stale = Assert.Single(await a.AcquireAsync("node-a", Names, 1, LeaseLength, Ct));
        time.Advance(LeaseLength);

        // The takeover is in flight: its transaction holds the row lock and has raised the token, not yet committed.
        await using NpgsqlDataSource other = NpgsqlDataSource.Create(ConnectionString);
        await using NpgsqlConnection takeover = await other.OpenConnectionAsync(Ct);
        await using NpgsqlTransaction transaction = await takeover.BeginTransactionAsync(Ct);
        await using (NpgsqlCommand raise = new(
            $"UPDATE \"{schema}\".sagas SET lease_owner = @owner, lease_token = lease_token + 1, lease_expires_at = @expires WHERE id = 's1';", takeover, transaction))
        {
            raise.Parameters.Add(new NpgsqlParameter<string>("owner", newOwner));
            raise.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("expires", time.GetUtcNow() + LeaseLength));
            Assert.Equal(1, await raise.ExecuteNonQueryAsync(Ct));
        }

        SagaLease lease = new(stale.Id, stale.LeaseToken);
        Task<bool> writing = write switch
        {
            "checkpoint" => a.CheckpointAsync(Checkpoint(stale, "{\"stale\":true}", time.GetUtcNow(), Line(2, time.GetUtcNow(), 1)), Ct).AsTask(),
            "renew" => Task.Run(async () => (await a.RenewLeasesAsync("node-a", [lease], TimeSpan.FromMinutes(5), Ct)).Count == 0, Ct),
            _ => Task.Run(async () =>
            {
                await a.ReleaseLeasesAsync("node-a", [lease], Ct);
                return false;
            }, Ct),
        };
        await WaitUntilBlockedOnALockAsync(other, schema, writing);
        await transaction.CommitAsync(Ct);

        Assert.False(await writing, $"the stale holder's {write} was applied over the takeover");
        SagaRecord? row = await a.GetAsync("s1", Ct);
        Assert.Equal(stale with { LeaseOwner = newOwner, LeaseToken = 2, LeaseExpiresAt = time.GetUtcNow() + LeaseLength }, row);
        Assert.Equal([Line(1, Start, kind: SagaEventKind.Started)], await a.GetEventsAsync("s1", Ct));
    }

    [Fact]
    public async Task CheckpointsRacingATakeover_AreAppliedExactlyWhenTheTakeoverDidNotComeFirst()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var time = new FakeTimeProvider(Start);
        PostgreSqlSagaStore a = CreateStore(schema, time);
        PostgreSqlSagaStore b = CreateStore(schema, time);
        _ = await CreateManyAsync(a, 200, Start);
        IReadOnlyList<SagaRecord> heldByA = await a.AcquireAsync("node-a", Names, 200, LeaseLength, Ct);
        time.Advance(LeaseLength); // expired, but nobody took them yet: A still holds them

        Task<bool>[] writes = [.. heldByA.Select(s => Task.Run(() => a.CheckpointAsync(
            Checkpoint(s, "{\"by\":\"a\"}", time.GetUtcNow(), Line(2, time.GetUtcNow(), s.LeaseToken)), Ct).AsTask(), Ct))];
        var takenByB = new ConcurrentDictionary<string, SagaRecord>();
        Task takeover = Task.Run(async () =>
        {
            // B keeps acquiring until it holds all 200 (a row being written by A is skipped and picked up next time).
            for (int attempt = 0; takenByB.Count < 200; attempt++)
            {
                Assert.True(attempt < 10_000, $"B acquired only {takenByB.Count} of 200 sagas whose leases expired");
                foreach (SagaRecord saga in await b.AcquireAsync("node-b", Names, 5, LeaseLength, Ct))
                {
                    Assert.True(takenByB.TryAdd(saga.Id, saga), $"{saga.Id} acquired twice");
                }
            }
        }, Ct);
        bool[] applied = await Task.WhenAll(writes);
        await takeover;

        for (int i = 0; i < heldByA.Count; i++)
        {
            string id = heldByA[i].Id;
            SagaRecord taken = takenByB[id];
            SagaRecord row = (await a.GetAsync(id, Ct))!;
            IReadOnlyList<SagaEvent> events = await a.GetEventsAsync(id, Ct);

            // B saw A's write if and only if it was applied; a refused write left no trace.
            string expectedData = applied[i] ? "{\"by\":\"a\"}" : """{"orderId":42}""";
            Assert.Equal(expectedData, taken.Data);
            Assert.Equal(expectedData, row.Data);
            Assert.Equal(applied[i] ? 2 : 1, events.Count);
            Assert.Equal(("node-b", heldByA[i].LeaseToken + 1), (row.LeaseOwner, row.LeaseToken));
        }
    }

    [Fact]
    public async Task RenewalsRacingATakeover_EitherKeepTheSagaOrReportItLost_NeverBoth()
    {
        string schema = PostgreSqlDatabase.NewSchema();
        var time = new FakeTimeProvider(Start);
        PostgreSqlSagaStore a = CreateStore(schema, time);
        PostgreSqlSagaStore b = CreateStore(schema, time);
        _ = await CreateManyAsync(a, 300, Start);
        SagaLease[] leases = [.. (await a.AcquireAsync("node-a", Names, 300, LeaseLength, Ct)).Select(s => new SagaLease(s.Id, s.LeaseToken))];
        time.Advance(LeaseLength);

        // A renews in batches (reverse order, so its row locks meet B's in every pattern) while B acquires.
        Task<IReadOnlyList<string>[]> renewals = Task.WhenAll(leases.Reverse().Chunk(25).Select(chunk =>
            Task.Run(async () => await a.RenewLeasesAsync("node-a", chunk, LeaseLength, Ct), Ct)));
        Task<List<string>> takeover = Task.Run(async () =>
        {
            List<string> taken = [];
            for (int i = 0; i < 40; i++)
            {
                taken.AddRange((await b.AcquireAsync("node-b", Names, 10, LeaseLength, Ct)).Select(s => s.Id));
            }

            return taken;
        }, Ct);
        HashSet<string> lost = [.. (await renewals).SelectMany(l => l)];
        HashSet<string> taken = [.. await takeover];

        Assert.Equal(taken.Order(StringComparer.Ordinal), lost.Order(StringComparer.Ordinal));
        foreach (SagaRecord row in await a.QueryAsync(new SagaQuery { Limit = 1_000 }, Ct))
        {
            Assert.Equal(taken.Contains(row.Id) ? ("node-b", 2L) : ("node-a", 1L), (row.LeaseOwner, row.LeaseToken));
            Assert.Equal(time.GetUtcNow() + LeaseLength, row.LeaseExpiresAt);
        }
    }

    /// <summary>Waits until a statement on <paramref name="schema"/> waits for a lock (the write behind the takeover), failing if the write finished instead.</summary>
    private static async Task WaitUntilBlockedOnALockAsync(NpgsqlDataSource dataSource, string schema, Task write)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            Assert.False(write.IsCompleted, "the checkpoint finished while the takeover held the row lock");
            await using NpgsqlCommand waiting = dataSource.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND strpos(query, @schema) > 0;");
            waiting.Parameters.Add(new NpgsqlParameter<string>("schema", schema));
            if ((long)(await waiting.ExecuteScalarAsync(timeout.Token))! > 0)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, timeout.Token);
        }
    }
}
