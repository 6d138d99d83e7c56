namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    [Fact]
    public async Task Events_FromCreateCheckpointsAndTransitions_AreReturnedInSequenceOrder()
    {
        SagaStoreHarness s = await StartAsync();
        var expected = new List<SagaEvent> { s.Started() };
        await s.CreateAsync(s.Saga("order-1"), [.. expected]);
        SagaRecord leased = await s.AcquireOneAsync();
        for (int step = 0; step < 5; step++)
        {
            s.Advance(TimeSpan.FromMilliseconds(10));
            SagaEvent[] lines =
            [
                s.Event(expected.Count + 1, SagaEventKind.StepAttemptFailed, $"step-{step}", 1, duration: TimeSpan.FromMilliseconds(step), detail: "timeout", leaseToken: 1),
                s.Event(expected.Count + 2, SagaEventKind.StepCompleted, $"step-{step}", 2, duration: TimeSpan.FromMilliseconds(step + 1), leaseToken: 1),
            ];
            Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, progress: $"step-{step}", events: lines)));
            expected.AddRange(lines);
        }

        SagaEvent suspended = s.Event(expected.Count + 1, SagaEventKind.Suspended, step: null, attempt: 0, leaseToken: 1);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, SagaStatus.Suspended, events: [suspended], releaseLease: true)));
        expected.Add(suspended);
        SagaEvent retried = s.Event(expected.Count + 1, SagaEventKind.Retried, step: null, attempt: 0, detail: "operator");
        Assert.True(await s.TransitionAsync(new SagaTransition
        {
            SagaId = "order-1", ExpectedStatus = SagaStatus.Suspended, Status = SagaStatus.Running, UpdatedAt = s.Now, Events = [retried],
        }));
        expected.Add(retried);

        IReadOnlyList<SagaEvent> events = await s.EventsAsync("order-1");

        SagaStoreHarness.AssertSameEvents(expected, events);
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), events.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Events_GivenOutOfOrderInOneWrite_AreReturnedBySequence()
    {
        SagaStoreHarness s = await StartAsync();
        SagaEvent one = s.Started();
        SagaEvent two = s.Event(2, detail: "two");
        SagaEvent three = s.Event(3, detail: "three");
        await s.CreateAsync(s.Saga("order-1"), [three, one, two]);
        SagaRecord leased = await s.AcquireOneAsync();
        SagaEvent five = s.Event(5, detail: "five");
        SagaEvent four = s.Event(4, detail: "four");

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, events: [five, four])));

        SagaStoreHarness.AssertSameEvents([one, two, three, four, five], await s.EventsAsync("order-1"));
    }

    [Fact]
    public async Task Events_ManyInOneCheckpoint_AreAllKeptInOrder()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord leased = await s.CreateAndAcquireAsync("order-1");
        SagaEvent[] lines = [.. Enumerable.Range(2, 500).Select(i => s.Event(i, SagaEventKind.StepCompleted, $"step-{i}", i, detail: new string('x', i % 50)))];

        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, events: lines)));

        IReadOnlyList<SagaEvent> events = await s.EventsAsync("order-1");
        Assert.Equal(501, events.Count);
        SagaStoreHarness.AssertSameEvents(lines, [.. events.Skip(1)]);
    }

    [Fact]
    public async Task Events_EveryKindAndOptionalField_RoundTrip()
    {
        SagaStoreHarness s = await StartAsync();
        SagaEventKind[] kinds = Enum.GetValues<SagaEventKind>();
        SagaEvent[] lines =
        [
            .. kinds.Select((kind, i) => s.Event(
                i + 1,
                kind,
                step: i % 2 == 0 ? null : $"step-{i}",
                attempt: i % 3 == 0 ? 0 : i,
                at: Start.AddTicks(i * 10_000_010L),
                duration: i % 2 == 0 ? null : TimeSpan.FromTicks(i * 1_234_560L),
                detail: i % 4 == 0 ? null : $"detail {i}",
                leaseToken: i)),
            s.Event(kinds.Length + 1, SagaEventKind.StepCompleted, step: string.Empty, attempt: int.MaxValue, duration: TimeSpan.Zero, detail: string.Empty, leaseToken: long.MaxValue),
            s.Event(kinds.Length + 2, SagaEventKind.StepCompleted, duration: TimeSpan.FromDays(3) + (7 * Microsecond)),
        ];

        await s.CreateAsync(s.Saga("order-1"), lines);

        IReadOnlyList<SagaEvent> events = await s.EventsAsync("order-1");
        SagaStoreHarness.AssertSameEvents(lines, events);
        Assert.All(events, e => Assert.Equal(TimeSpan.Zero, e.At.Offset));
    }

    [Fact]
    public async Task Events_OfOneSaga_NeverShowInAnother()
    {
        SagaStoreHarness s = await StartAsync();
        string[] ids = ["a", "ab", "a%", "a_", "A"];
        foreach (string id in ids)
        {
            await s.CreateAsync(s.Saga(id), [s.Event(1, SagaEventKind.Started, detail: id), s.Event(2, detail: id)]);
        }

        foreach (string id in ids)
        {
            IReadOnlyList<SagaEvent> events = await s.EventsAsync(id);
            Assert.Equal(2, events.Count);
            Assert.All(events, e => Assert.Equal(id, e.Detail));
        }
    }

    [Fact]
    public async Task Events_UnknownSaga_AreEmpty()
    {
        SagaStoreHarness s = await StartAsync();
        await s.CreateAsync("order-1");

        Assert.Empty(await s.EventsAsync("order-2"));
    }
}
