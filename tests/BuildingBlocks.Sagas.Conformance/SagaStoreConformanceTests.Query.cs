namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    /// <summary>Ids whose ordinal order differs from a culture-aware or case-insensitive one (and from numeric order).</summary>
    private static readonly string[] OrdinalIds = ["a", "B", "b", "10", "9", "A", "a-1", "a0", "é", "Z", "_x", "~"];

    private static string[] OrdinalSorted(IEnumerable<string> ids) => [.. ids.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Query_OrdersByIdOrdinal()
    {
        SagaStoreHarness s = await StartAsync();
        foreach (string id in OrdinalIds)
        {
            await s.CreateAsync(id);
        }

        IReadOnlyList<SagaRecord> all = await s.QueryAsync(new SagaQuery { Limit = 1000 });

        Assert.Equal(["10", "9", "A", "B", "Z", "_x", "a", "a-1", "a0", "b", "~", "é"], all.Select(r => r.Id));
    }

    [Fact]
    public async Task Query_PagedWithAfterId_VisitsEverySagaOnceInOrder()
    {
        SagaStoreHarness s = await StartAsync();
        foreach (string id in OrdinalIds)
        {
            await s.CreateAsync(id);
        }

        var visited = new List<string>();
        string? after = null;
        while (true)
        {
            IReadOnlyList<SagaRecord> page = await s.QueryAsync(new SagaQuery { AfterId = after, Limit = 5 });
            Assert.True(page.Count <= 5);
            visited.AddRange(page.Select(r => r.Id));
            if (page.Count < 5)
            {
                break;
            }

            after = page[^1].Id;
        }

        Assert.Equal(OrdinalSorted(OrdinalIds), visited);
    }

    [Fact]
    public async Task Query_AfterIdThatIsNoSaga_StartsAfterWhereItWouldSort()
    {
        SagaStoreHarness s = await StartAsync();
        foreach (string id in OrdinalIds)
        {
            await s.CreateAsync(id);
        }

        Assert.Equal(["a", "a-1", "a0", "b", "~", "é"], (await s.QueryAsync(new SagaQuery { AfterId = "_y", Limit = 100 })).Select(r => r.Id));
        Assert.Equal(["a0", "b", "~", "é"], (await s.QueryAsync(new SagaQuery { AfterId = "a-1", Limit = 100 })).Select(r => r.Id));
        Assert.Equal(OrdinalSorted(OrdinalIds), (await s.QueryAsync(new SagaQuery { AfterId = string.Empty, Limit = 100 })).Select(r => r.Id));
        Assert.Empty(await s.QueryAsync(new SagaQuery { AfterId = "é", Limit = 100 }));
    }

    [Fact]
    public async Task Query_Limit_CapsThePage()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateManyAsync(Enumerable.Range(0, 12).Select(i => $"order-{i:D2}"));

        Assert.Equal(["order-00", "order-01", "order-02"], (await s.QueryAsync(new SagaQuery { Limit = 3 })).Select(r => r.Id));
        Assert.Single(await s.QueryAsync(new SagaQuery { Limit = 1 }));
        Assert.Equal(12, (await s.QueryAsync(new SagaQuery { Limit = 1000 })).Count);
        Assert.Equal(12, (await s.QueryAsync(new SagaQuery())).Count);
    }

    [Fact]
    public async Task Query_StatusesFilter_KeepsOnlyThoseStatuses_NullOrEmptyMeansAll()
    {
        SagaStoreHarness s = await StartAsync();
        foreach (SagaStatus status in Enum.GetValues<SagaStatus>())
        {
            await s.CreateAsync($"{(int)status}-1", status);
            await s.CreateAsync($"{(int)status}-2", status);
        }

        IReadOnlyList<SagaRecord> parked = await s.QueryAsync(new SagaQuery { Statuses = [SagaStatus.Suspended, SagaStatus.CompensationFailed] });
        Assert.Equal(["4-1", "4-2", "5-1", "5-2"], parked.Select(r => r.Id));

        Assert.Equal(["2-1", "2-2"], (await s.QueryAsync(new SagaQuery { Statuses = [SagaStatus.Completed] })).Select(r => r.Id));
        Assert.Equal(14, (await s.QueryAsync(new SagaQuery { Statuses = [] })).Count);
        Assert.Equal(14, (await s.QueryAsync(new SagaQuery { Statuses = null })).Count);
    }

    [Fact]
    public async Task Query_NameFilter_IsExactAndCaseSensitive()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("1", name: "orders");
        await s.CreateAsync("2", name: "Orders");
        await s.CreateAsync("3", name: "orders-v2");
        await s.CreateAsync("4", name: "orders");
        await s.CreateAsync("5", name: "o%");
        await s.CreateAsync("6", name: "o_ders");

        Assert.Equal(["1", "4"], (await s.QueryAsync(new SagaQuery { Name = "orders" })).Select(r => r.Id));
        Assert.Equal(["2"], (await s.QueryAsync(new SagaQuery { Name = "Orders" })).Select(r => r.Id));
        Assert.Equal(["5"], (await s.QueryAsync(new SagaQuery { Name = "o%" })).Select(r => r.Id));
        Assert.Equal(["6"], (await s.QueryAsync(new SagaQuery { Name = "o_ders" })).Select(r => r.Id));
        Assert.Empty(await s.QueryAsync(new SagaQuery { Name = "order" }));
    }

    [Fact]
    public async Task Query_FiltersAndPagingTogether_PageThroughOnlyTheMatches()
    {
        SagaStoreHarness s = await StartAsync();
        var expected = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            string id = $"saga-{i:D2}";
            SagaStatus status = (i % 3) switch { 0 => SagaStatus.Suspended, 1 => SagaStatus.Running, _ => SagaStatus.CompensationFailed };
            string name = i % 2 == 0 ? "orders" : "refunds";
            await s.CreateAsync(id, status, name);
            if (name == "orders" && status is SagaStatus.Suspended or SagaStatus.CompensationFailed)
            {
                expected.Add(id);
            }
        }

        var visited = new List<string>();
        string? after = null;
        IReadOnlyList<SagaRecord> page;
        do
        {
            page = await s.QueryAsync(new SagaQuery { Name = "orders", Statuses = [SagaStatus.Suspended, SagaStatus.CompensationFailed], AfterId = after, Limit = 3 });
            visited.AddRange(page.Select(r => r.Id));
            after = page.Count > 0 ? page[^1].Id : after;
        }
        while (page.Count == 3);

        Assert.Equal(expected, visited);
    }

    [Fact]
    public async Task Query_ReturnsTheFullRows()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync(s.Saga("order-1", SagaStatus.Compensating, data: "d", progress: "p", error: "e", createdAt: Start.AddTicks(-12_340)));
        SagaRecord leased = await s.AcquireOneAsync();

        SagaRecord listed = Assert.Single(await s.QueryAsync(new SagaQuery()));

        SagaStoreHarness.AssertSameRecord(leased, listed);
        SagaStoreHarness.AssertUtc(listed);
    }

    [Fact]
    public async Task Query_EmptyStore_ReturnsEmpty()
    {
        SagaStoreHarness s = await StartAsync();

        Assert.Empty(await s.QueryAsync(new SagaQuery { Statuses = [SagaStatus.Running], Name = "x", AfterId = "a" }));
        Assert.Empty(await s.QueryAsync(new SagaQuery()));
    }

    [Fact]
    public async Task Query_NullArgument_Throws()
    {
        SagaStoreHarness s = await StartAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await s.Store.QueryAsync(null!, Ct));
    }

    [Fact]
    public async Task CountByStatus_CountsEveryStatus_AndFollowsChanges()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateManyAsync(["r1", "r2", "r3"]);
        await s.CreateAsync("c1", SagaStatus.Completed);
        await s.CreateAsync("s1", SagaStatus.Suspended);

        AssertCounts(new() { [SagaStatus.Running] = 3, [SagaStatus.Completed] = 1, [SagaStatus.Suspended] = 1 }, await s.Store.CountByStatusAsync(Ct));

        SagaRecord leased = await s.AcquireOneAsync();
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Compensating)));
        Assert.True(await s.TransitionAsync(new SagaTransition { SagaId = "s1", ExpectedStatus = SagaStatus.Suspended, Status = SagaStatus.Resolved, UpdatedAt = s.Now, Events = [] }));

        AssertCounts(
            new() { [SagaStatus.Running] = 2, [SagaStatus.Compensating] = 1, [SagaStatus.Completed] = 1, [SagaStatus.Resolved] = 1 },
            await s.Store.CountByStatusAsync(Ct));
    }

    [Fact]
    public async Task CountByStatus_EmptyStore_HasNoCounts()
    {
        SagaStoreHarness s = await StartAsync();

        AssertCounts([], await s.Store.CountByStatusAsync(Ct));
    }

    /// <summary>Statuses without sagas may be missing or 0; the others must match.</summary>
    private static void AssertCounts(Dictionary<SagaStatus, long> expected, IReadOnlyDictionary<SagaStatus, long> actual)
    {
        foreach (SagaStatus status in Enum.GetValues<SagaStatus>())
        {
            long want = expected.GetValueOrDefault(status);
            long got = actual.TryGetValue(status, out long count) ? count : 0;
            Assert.True(want == got, $"{status}: expected {want}, got {got}");
        }

        Assert.All(actual.Keys, status => Assert.True(Enum.IsDefined(status), $"Unknown status {(int)status} in the counts."));
    }
}
