using System.Text;

namespace BuildingBlocks.Sagas.Conformance;

public abstract partial class SagaStoreConformanceTests
{
    /// <summary>Text that trips up encodings: accents, CJK, right-to-left, combining marks, emoji (surrogate pairs), quotes, control characters.</summary>
    private const string Unicode = "Zoë · 東京 · مرحبا · e\u0301 · 😀👩‍👩‍👧 · 'quote' \"double\" \\ \t\r\n · \u2028 · \uFFFD";

    /// <summary>Random JSON-ish text of about <paramref name="length"/> characters, with multi-byte characters and whole surrogate pairs.</summary>
    private static string LargeText(int length, int seed)
    {
        string[] pieces = ["a", "b", "z", "0", "9", " ", "{", "}", "[", "]", "\"", ":", ",", "é", "ü", "東", "😀", "👩‍👧"];
        var builder = new StringBuilder(length + 8);
        var random = new Random(seed);
        while (builder.Length < length)
        {
            builder.Append(pieces[random.Next(pieces.Length)]);
        }

        return builder.ToString();
    }

    [Fact]
    public async Task RoundTrip_OneMegabyteOfDataAndProgress_ThroughCreateCheckpointAcquireAndQuery()
    {
        SagaStoreHarness s = await StartAsync();
        string data = LargeText(1 << 20, seed: 1);
        string progress = LargeText(256 << 10, seed: 2);
        await s.CreateAsync(s.Saga("big", data: data, progress: progress));

        SagaRecord leased = await s.AcquireOneAsync();
        Assert.True(leased.Data == data, "Acquire returned other data.");
        Assert.True(leased.Progress == progress, "Acquire returned another progress.");

        string data2 = LargeText(1 << 20, seed: 3);
        string error = LargeText(64 << 10, seed: 4);
        string detail = LargeText(64 << 10, seed: 5);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, data: data2, progress: progress, error: error, events: [s.Event(2, detail: detail)])));

        SagaRecord stored = await s.GetAsync("big");
        Assert.True(stored.Data == data2, "Get returned other data.");
        Assert.True(stored.Error == error, "Get returned another error.");
        Assert.True((await s.EventsAsync("big"))[1].Detail == detail, "The event detail changed.");
        Assert.True(Assert.Single(await s.QueryAsync(new SagaQuery())).Data == data2, "Query returned other data.");
    }

    [Fact]
    public async Task RoundTrip_UnicodeInEveryTextField()
    {
        SagaStoreHarness s = await StartAsync();
        string id = "saga-Zoë-東京-😀";
        SagaRecord saga = s.Saga(id, name: "名前-" + Unicode, data: "{\"note\":\"" + Unicode + "\"}", progress: Unicode, error: Unicode, leaseOwner: "coördinator-東京-😀", leaseToken: 1, leaseExpiresAt: s.Now + Lease);
        SagaEvent line = s.Event(1, SagaEventKind.Started, step: "step-" + Unicode, detail: Unicode, leaseToken: 1);

        await s.CreateAsync(saga, [line]);

        SagaStoreHarness.AssertSameRecord(saga, await s.GetAsync(id));
        SagaStoreHarness.AssertSameEvents([line], await s.EventsAsync(id));
        Assert.True(await s.CheckpointAsync(s.Checkpoint(saga, data: Unicode + Unicode, events: [s.Event(2, step: Unicode, detail: Unicode, leaseToken: 1)])));
        Assert.Equal(Unicode + Unicode, (await s.GetAsync(id)).Data);
        Assert.Equal(id, Assert.Single(await s.QueryAsync(new SagaQuery { Name = "名前-" + Unicode })).Id);
        Assert.Equal([id], await s.RenewAsync("coördinator-東京-😀", new SagaLease(id, 2)));
        Assert.Empty(await s.RenewAsync("coördinator-東京-😀", new SagaLease(id, 1)));
    }

    [Fact]
    public async Task RoundTrip_EmptyStrings_StayEmpty_NotNull()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord saga = s.Saga("order-1", data: string.Empty, progress: string.Empty, error: string.Empty);
        SagaEvent line = s.Event(1, SagaEventKind.Started, step: string.Empty, detail: string.Empty);

        await s.CreateAsync(saga, [line]);

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Equal(string.Empty, stored.Data);
        Assert.Equal(string.Empty, stored.Progress);
        Assert.Equal(string.Empty, stored.Error);
        SagaEvent storedLine = Assert.Single(await s.EventsAsync("order-1"));
        Assert.Equal(string.Empty, storedLine.Step);
        Assert.Equal(string.Empty, storedLine.Detail);
    }

    [Fact]
    public async Task RoundTrip_Timestamps_KeepMicroseconds_AndComeBackInUtc()
    {
        SagaStoreHarness s = await StartAsync();
        DateTimeOffset createdAt = Start.AddTicks(1_234_560);
        DateTimeOffset updatedAt = Start.AddTicks(9_876_540);
        SagaEvent line = s.Event(1, SagaEventKind.Started, at: Start.AddTicks(5_555_550), duration: TimeSpan.FromTicks(12_345_670));
        await s.CreateAsync(s.Saga("order-1", createdAt: createdAt, updatedAt: updatedAt), [line]);
        s.Advance(TimeSpan.FromTicks(7_654_320));
        TimeSpan lease = TimeSpan.FromTicks(300_000_010);

        SagaRecord leased = await s.AcquireOneAsync(A, lease);

        SagaRecord stored = await s.GetAsync("order-1");
        Assert.Equal(createdAt, stored.CreatedAt);
        Assert.Equal(updatedAt, stored.UpdatedAt);
        Assert.Equal(s.Now + lease, stored.LeaseExpiresAt);
        Assert.Equal(s.Now + lease, leased.LeaseExpiresAt);
        SagaStoreHarness.AssertUtc(stored);
        SagaStoreHarness.AssertUtc(leased);
        SagaEvent storedLine = Assert.Single(await s.EventsAsync("order-1"));
        Assert.Equal(line.At, storedLine.At);
        Assert.Equal(TimeSpan.Zero, storedLine.At.Offset);
        Assert.Equal(line.Duration, storedLine.Duration);

        DateTimeOffset checkpointAt = s.Now.AddTicks(10);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(leased, updatedAt: checkpointAt)));
        Assert.Equal(checkpointAt, (await s.GetAsync("order-1")).UpdatedAt);

        s.Advance(3 * Microsecond);
        Assert.Empty(await s.RenewAsync(A, new SagaLease("order-1", leased.LeaseToken)));
        Assert.Equal(s.Now + Lease, (await s.GetAsync("order-1")).LeaseExpiresAt);
    }

    [Fact]
    public async Task RoundTrip_TimestampsGivenWithAnOffset_KeepTheirInstant()
    {
        SagaStoreHarness s = await StartAsync();
        var offset = TimeSpan.FromHours(5.5);
        DateTimeOffset createdAt = Start.ToOffset(offset).AddTicks(120);
        DateTimeOffset updatedAt = Start.ToOffset(-TimeSpan.FromHours(8)).AddTicks(340);
        DateTimeOffset at = Start.ToOffset(offset).AddTicks(560);
        await s.CreateAsync(s.Saga("order-1", createdAt: createdAt, updatedAt: updatedAt), [s.Event(1, SagaEventKind.Started, at: at)]);

        SagaRecord stored = await s.GetAsync("order-1");

        Assert.Equal(createdAt.UtcDateTime, stored.CreatedAt.UtcDateTime);
        Assert.Equal(updatedAt.UtcDateTime, stored.UpdatedAt.UtcDateTime);
        Assert.Equal(at.UtcDateTime, Assert.Single(await s.EventsAsync("order-1")).At.UtcDateTime);
    }

    [Fact]
    public async Task RoundTrip_ExtremeNumbers()
    {
        SagaStoreHarness s = await StartAsync();
        SagaRecord saga = s.Saga("order-1", version: int.MaxValue, leaseOwner: A, leaseToken: long.MaxValue - 1, leaseExpiresAt: s.Now + Lease);
        await s.CreateAsync(saga, [s.Event(1, SagaEventKind.Started, attempt: int.MaxValue, leaseToken: long.MaxValue)]);
        SagaRecord zero = await s.CreateAsync(s.Saga("order-0", version: 0));

        SagaStoreHarness.AssertSameRecord(saga, await s.GetAsync("order-1"));
        SagaStoreHarness.AssertSameRecord(zero, await s.GetAsync("order-0"));
        s.Advance(Lease);
        SagaRecord taken = Assert.Single(await s.AcquireAsync(B, 10), r => r.Id == "order-1");
        Assert.Equal(long.MaxValue, taken.LeaseToken);
        Assert.True(await s.CheckpointAsync(s.Checkpoint(taken)));
    }

    [Fact]
    public async Task RoundTrip_EveryStatus()
    {
        SagaStoreHarness s = await StartAsync();
        foreach (SagaStatus status in Enum.GetValues<SagaStatus>())
        {
            SagaRecord saga = await s.CreateAsync(s.Saga($"saga-{status}", status));
            SagaStoreHarness.AssertSameRecord(saga, await s.GetAsync(saga.Id));
        }
    }
}
