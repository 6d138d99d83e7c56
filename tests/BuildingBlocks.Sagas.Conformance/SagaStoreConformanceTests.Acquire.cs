using System.Collections.Concurrent;

namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    [Fact]
    public async Task Acquire_UnleasedRunningSaga_SetsOwnerRaisesTokenAndExpiresAtNowPlusDuration()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord created = await s.CreateAsync(s.Saga("order-1", data: "d", progress: "p", error: "e"));
        s.Advance(TimeSpan.FromSeconds(7) + (3 * Microsecond));
        TimeSpan lease = TimeSpan.FromSeconds(45) + (11 * Microsecond);

        SagaRecord acquired = await s.AcquireOneAsync(A, lease);

        SagaRecord expected = created with { LeaseOwner = A, LeaseToken = 1, LeaseExpiresAt = s.Now + lease };
        SagaStoreHarness.AssertSameRecord(expected, acquired);
        SagaStoreHarness.AssertSameRecord(expected, await s.GetAsync("order-1"));
        Assert.Single(await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Acquire_SkipsLiveLeases()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease - Microsecond);

        Assert.Empty(await s.AcquireAsync(B));
        Assert.Empty(await s.AcquireAsync(A));
        Assert.Equal(A, (await s.GetAsync("order-1")).LeaseOwner);
        Assert.Equal(1, (await s.GetAsync("order-1")).LeaseToken);
    }

    [Fact]
    public async Task Acquire_ExpiredLease_IsTakenAtTheExpiryInstant_WithTheTokenRaised()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord first = await s.CreateAndAcquireAsync("order-1");
        s.Advance(Lease - Microsecond);
        Assert.Empty(await s.AcquireAsync(B));

        s.Advance(Microsecond);
        SagaRecord taken = await s.AcquireOneAsync(B);

        Assert.Equal(B, taken.LeaseOwner);
        Assert.Equal(first.LeaseToken + 1, taken.LeaseToken);
        Assert.Equal(s.Now + Lease, taken.LeaseExpiresAt);
    }

    [Fact]
    public async Task Acquire_TakesOnlyRunningAndCompensatingSagas()
    {
        SagaStoreHarness s = await StartAsync();
        foreach (SagaStatus status in Enum.GetValues<SagaStatus>())
        {
            await s.CreateAsync($"saga-{status}", status);
        }

        IReadOnlyList<SagaRecord> acquired = await s.AcquireAsync(maxCount: 100);

        Assert.Equal(["saga-Compensating", "saga-Running"], acquired.Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Acquire_FinishedOrParkedSagasWithAnExpiredLease_AreNotTaken()
    {
        SagaStoreHarness s = await StartAsync();
        SagaStatus[] inactive = [SagaStatus.Completed, SagaStatus.Compensated, SagaStatus.CompensationFailed, SagaStatus.Suspended, SagaStatus.Resolved];
        foreach (SagaStatus status in inactive)
        {
            await s.CreateAsync(s.Saga($"saga-{status}", status, leaseOwner: A, leaseToken: 3, leaseExpiresAt: s.Now + Lease));
        }

        s.Advance(Lease * 2);

        Assert.Empty(await s.AcquireAsync(B, 100));
        foreach (SagaStatus status in inactive)
        {
            Assert.Equal(3, (await s.GetAsync($"saga-{status}")).LeaseToken);
        }
    }

    [Fact]
    public async Task Acquire_HonoursMaxCount_OldestUpdateFirst_ThenIdOrdinal()
    {
        SagaStoreHarness s = await StartAsync();
        // Created in an order that differs from the acquire order; ties on updated_at break by id, ordinal ("B" < "a").
        await s.CreateAsync("late", updatedAt: Start.AddSeconds(3));
        await s.CreateAsync("a", updatedAt: Start.AddSeconds(1));
        await s.CreateAsync("B", updatedAt: Start.AddSeconds(1));
        await s.CreateAsync("earliest", updatedAt: Start.AddSeconds(-10));
        await s.CreateAsync("middle", updatedAt: Start.AddSeconds(2));
        await s.CreateAsync("just-after-a", updatedAt: Start.AddSeconds(1) + Microsecond);

        IReadOnlyList<SagaRecord> firstTwo = await s.AcquireAsync(A, maxCount: 2);
        Assert.Equal(["B", "earliest"], firstTwo.Select(r => r.Id).Order(StringComparer.Ordinal));

        var order = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            order.Add((await s.AcquireOneAsync(B)).Id);
        }

        Assert.Equal(["a", "just-after-a", "middle", "late"], order);
        Assert.Empty(await s.AcquireAsync(B));
    }

    [Fact]
    public async Task Acquire_OrdersByUpdatedAt_NotByCreation()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord first = await s.CreateAndAcquireAsync("created-first");
        s.Advance(TimeSpan.FromSeconds(1));
        await s.CreateAsync("created-second");
        s.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await s.CheckpointAsync(s.Checkpoint(first, releaseLease: true)));

        Assert.Equal("created-second", (await s.AcquireOneAsync(B)).Id);
        Assert.Equal("created-first", (await s.AcquireOneAsync(B)).Id);
    }

    [Fact]
    public async Task Acquire_ReturnsTheRowsAsTheyAreNow()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        s.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Compensating, data: "d2", progress: "p2", error: "why", releaseLease: true)));
        SagaRecord afterCheckpoint = await s.GetAsync("order-1");

        SagaRecord again = await s.AcquireOneAsync(B);

        SagaStoreHarness.AssertSameRecord(afterCheckpoint with { LeaseOwner = B, LeaseToken = 2, LeaseExpiresAt = s.Now + Lease }, again);
    }

    [Fact]
    public async Task Acquire_EmptyStoreOrNothingAvailable_ReturnsEmpty()
    {
        SagaStoreHarness s = await StartAsync();
        Assert.Empty(await s.AcquireAsync());

        await s.CreateAsync("done", SagaStatus.Completed);
        await s.CreateAndAcquireAsync("busy");
        Assert.Empty(await s.AcquireAsync(B));
    }

    [Fact]
    public async Task Acquire_AReleasedLease_IsTakenAtOnce()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        await s.ReleaseAsync(A, new SagaLease("order-1", leased.LeaseToken));

        SagaRecord taken = await s.AcquireOneAsync(B);

        Assert.Equal(2, taken.LeaseToken);
        Assert.Equal(B, taken.LeaseOwner);
    }

    [Fact]
    public async Task Acquire_ManyAtOnce_TakesThemAllInOneCall()
    {
        SagaStoreHarness s = await StartAsync();
        string[] ids = [.. Enumerable.Range(0, 300).Select(i => $"order-{i:D4}")];
        await s.CreateManyAsync(ids);

        IReadOnlyList<SagaRecord> acquired = await s.AcquireAsync(A, maxCount: 1000);

        Assert.Equal(ids, acquired.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.All(acquired, r => Assert.Equal((A, 1L, s.Now + Lease), (r.LeaseOwner, r.LeaseToken, r.LeaseExpiresAt)));
        Assert.Empty(await s.AcquireAsync(B, 1000));
    }

    [Fact]
    public async Task Acquire_ConcurrentAcquirers_NeverGetTheSameSagaWithTheSameToken()
    {
        SagaStoreHarness s = await StartAsync();
        const int Sagas = 200;
        const int Acquirers = 8;
        string[] ids = [.. Enumerable.Range(0, Sagas).Select(i => $"order-{i:D4}")];
        await s.CreateManyAsync(ids);

        for (int round = 1; round <= 2; round++)
        {
            var taken = new ConcurrentBag<(string Owner, SagaRecord Saga)>();
            await Task.WhenAll(Enumerable.Range(0, Acquirers).Select(a => Task.Run(
                async () =>
                {
                    string owner = $"coordinator-{a}";
                    while (true)
                    {
                        IReadOnlyList<SagaRecord> batch = await s.Store.AcquireAsync(owner, SagaStoreHarness.DefaultNames, 7, Lease, Ct);
                        if (batch.Count == 0)
                        {
                            return;
                        }

                        foreach (SagaRecord saga in batch)
                        {
                            taken.Add((owner, saga));
                        }
                    }
                },
                Ct)));

            // Every saga exactly once per round (the clock does not move, so no lease expires within a round).
            Assert.Equal(ids, taken.Select(t => t.Saga.Id).Order(StringComparer.Ordinal));
            Assert.All(taken, t => Assert.Equal((t.Owner, (long)round), (t.Saga.LeaseOwner, t.Saga.LeaseToken)));
            foreach ((string owner, SagaRecord saga) in taken)
            {
                SagaRecord stored = await s.GetAsync(saga.Id);
                Assert.Equal((owner, (long)round), (stored.LeaseOwner, stored.LeaseToken));
            }

            s.Advance(Lease);
        }
    }

    [Fact]
    public async Task Acquire_TakesOnlySagasOfTheGivenDefinitionNames()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("o1", name: "orders");
        await s.CreateAsync("o2", name: "orders");
        await s.CreateAsync("r1", name: "refunds");
        await s.CreateAsync("x1", name: "Orders");
        await s.CreateAsync("x2", name: "orders-v2");
        await s.CreateAsync("x3", name: "order%");

        Assert.Equal(["o1", "o2"], (await s.AcquireAsync(A, names: ["orders"])).Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Empty(await s.AcquireAsync(B, names: ["orders"]));
        Assert.Empty(await s.AcquireAsync(B, names: ["order_", "Order%", "order"]));
        Assert.Equal(["r1", "x1", "x2"], (await s.AcquireAsync(B, names: ["refunds", "Orders", "orders-v2", "unknown"])).Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Null((await s.GetAsync("x3")).LeaseOwner);
        Assert.Equal("x3", (await s.AcquireOneAsync(B, names: ["order%"])).Id);
    }

    [Fact]
    public async Task Acquire_NamesWithQuotesBackslashesAndUnicode_MatchExactly()
    {
        SagaStoreHarness s = await StartAsync();
        string[] names = ["he said \"hi\"", "back\\slash", "名前-😀", "[\"json\"]", "it's"];
        foreach ((string name, int i) in names.Select((n, i) => (n, i)))
        {
            await s.CreateAsync($"saga-{i}", name: name);
        }

        for (int i = 0; i < names.Length; i++)
        {
            Assert.Equal($"saga-{i}", (await s.AcquireOneAsync(names: [names[i]])).Id);
        }

        Assert.Empty(await s.AcquireAsync(B, names: ["he said", "json", "名前"]));
    }

    [Fact]
    public async Task Acquire_NoNames_TakesNothing()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1");

        Assert.Empty(await s.AcquireAsync(A, names: []));
        Assert.Null((await s.GetAsync("order-1")).LeaseOwner);
    }

    [Fact]
    public async Task Acquire_ManyNames_TakesTheMatchingOnes_InUpdateOrder()
    {
        SagaStoreHarness s = await StartAsync();
        string[] names = [.. Enumerable.Range(0, 100).Select(i => $"definition-{i:D3}")];
        for (int i = 0; i < 20; i++)
        {
            await s.CreateAsync($"saga-{i:D2}", name: names[i * 5], updatedAt: Start.AddSeconds(-i));
        }

        IReadOnlyList<SagaRecord> acquired = await s.AcquireAsync(A, maxCount: 5, names: names);

        Assert.Equal(["saga-19", "saga-18", "saga-17", "saga-16", "saga-15"], acquired.Select(r => r.Id).OrderByDescending(id => id, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Acquire_InvalidArguments_Throw_AndLeaseNothing()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1");
        IReadOnlyCollection<string> names = SagaStoreHarness.DefaultNames;

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await s.Store.AcquireAsync(A, names, 0, Lease, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await s.Store.AcquireAsync(A, names, -1, Lease, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.Store.AcquireAsync(string.Empty, names, 1, Lease, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.Store.AcquireAsync(null!, names, 1, Lease, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.AcquireAsync(A, null!, 1, Lease, Ct));

        Assert.Null((await s.GetAsync("order-1")).LeaseOwner);
    }
}
