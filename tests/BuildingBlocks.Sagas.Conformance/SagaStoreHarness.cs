using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.Sagas.Conformance;

/// <summary>
/// A store under test with its clock, and the helpers the conformance tests share. Store-specific test classes may use
/// it too: <c>new SagaStoreHarness(store, time)</c> over any <see cref="ISagaStore"/> whose clock is that <see cref="FakeTimeProvider"/>.
/// </summary>
/// <remarks>
/// Every time the helpers produce is a whole number of microseconds (the finest unit PostgreSQL keeps), so a store
/// that keeps microseconds or ticks represents it exactly.
/// </remarks>
public sealed class SagaStoreHarness
{
    /// <summary>The definition name most tests use.</summary>
    public const string DefaultName = "order-fulfilment";

    /// <summary>The first coordinator.</summary>
    public const string OwnerA = "coordinator-a";

    /// <summary>The second coordinator (takes sagas over from <see cref="OwnerA"/>).</summary>
    public const string OwnerB = "coordinator-b";

    /// <summary>The fixed start of every test clock (whole seconds, UTC).</summary>
    public static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>The lease most tests acquire with.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(30);

    /// <summary>One microsecond: the smallest step the tests move the clock by.</summary>
    public static readonly TimeSpan Microsecond = TimeSpan.FromTicks(10);

    /// <summary>Wraps a store and its clock.</summary>
    /// <param name="store">The store under test.</param>
    /// <param name="time">The clock the store was created with.</param>
    public SagaStoreHarness(ISagaStore store, FakeTimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        Store = store;
        Time = time;
    }

    public ISagaStore Store { get; }

    public FakeTimeProvider Time { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Advance(TimeSpan by) => Time.Advance(by);

    /// <summary>A saga row as a coordinator would build it: created and updated now, unleased unless told otherwise.</summary>
    public SagaRecord Saga(
        string id,
        SagaStatus status = SagaStatus.Running,
        string name = DefaultName,
        int version = 1,
        string data = """{"orderId":42}""",
        string progress = "",
        string? error = null,
        DateTimeOffset? createdAt = null,
        DateTimeOffset? updatedAt = null,
        string? leaseOwner = null,
        long leaseToken = 0,
        DateTimeOffset? leaseExpiresAt = null) => new()
        {
            Id = id,
            Name = name,
            Version = version,
            Status = status,
            Data = data,
            Progress = progress,
            Error = error,
            CreatedAt = createdAt ?? Now,
            UpdatedAt = updatedAt ?? createdAt ?? Now,
            LeaseOwner = leaseOwner,
            LeaseToken = leaseToken,
            LeaseExpiresAt = leaseExpiresAt,
        };

    /// <summary>A history line, at now unless told otherwise.</summary>
    public SagaEvent Event(
        long sequence,
        SagaEventKind kind = SagaEventKind.StepCompleted,
        string? step = "reserve-stock",
        int attempt = 1,
        DateTimeOffset? at = null,
        TimeSpan? duration = null,
        string? detail = null,
        long leaseToken = 0) => new()
        {
            Sequence = sequence,
            Kind = kind,
            Step = step,
            Attempt = attempt,
            At = at ?? Now,
            Duration = duration,
            Detail = detail,
            LeaseToken = leaseToken,
        };

    /// <summary>The line a start writes (sequence 1).</summary>
    public SagaEvent Started(long leaseToken = 0) =>
        Event(1, SagaEventKind.Started, step: null, attempt: 0, leaseToken: leaseToken);

    /// <summary>Stores a saga (asserting it was created) with <paramref name="events"/>, or one <see cref="Started"/> line.</summary>
    public async Task<SagaRecord> CreateAsync(SagaRecord saga, IReadOnlyList<SagaEvent>? events = null)
    {
        Assert.True(await Store.CreateAsync(saga, events ?? [Started(saga.LeaseToken)], Ct), $"saga '{saga.Id}' should have been created");
        return saga;
    }

    /// <summary>Stores an unleased saga with default values and one start line.</summary>
    public Task<SagaRecord> CreateAsync(string id, SagaStatus status = SagaStatus.Running, string name = DefaultName, DateTimeOffset? updatedAt = null) =>
        CreateAsync(Saga(id, status, name, updatedAt: updatedAt));

    /// <summary>Stores many unleased sagas concurrently, each call on the thread pool (so a store may commit them together).</summary>
    public async Task CreateManyAsync(IEnumerable<string> ids, SagaStatus status = SagaStatus.Running)
    {
        SagaRecord[] sagas = [.. ids.Select(id => Saga(id, status))];
        SagaEvent[] started = [Started()];
        bool[] created = await Task.WhenAll(sagas.Select(saga => Task.Run(async () => await Store.CreateAsync(saga, started, Ct), Ct)));
        Assert.All(created, Assert.True);
    }

    /// <summary>The definition names most acquires run: only <see cref="DefaultName"/>.</summary>
    public static IReadOnlyCollection<string> DefaultNames { get; } = [DefaultName];

    /// <summary>Acquires sagas of <paramref name="names"/> (default: <see cref="DefaultNames"/>).</summary>
    public async Task<IReadOnlyList<SagaRecord>> AcquireAsync(string owner = OwnerA, int maxCount = 100, TimeSpan? lease = null, IReadOnlyCollection<string>? names = null) =>
        await Store.AcquireAsync(owner, names ?? DefaultNames, maxCount, lease ?? DefaultLease, Ct);

    /// <summary>Acquires exactly one saga (asserting one was available).</summary>
    public async Task<SagaRecord> AcquireOneAsync(string owner = OwnerA, TimeSpan? lease = null, IReadOnlyCollection<string>? names = null) =>
        Assert.Single(await AcquireAsync(owner, 1, lease, names));

    /// <summary>Creates an unleased running saga and acquires it (asserting the acquire took that saga).</summary>
    public async Task<SagaRecord> CreateAndAcquireAsync(string id, string owner = OwnerA, TimeSpan? lease = null)
    {
        await CreateAsync(id);
        SagaRecord leased = await AcquireOneAsync(owner, lease);
        Assert.Equal(id, leased.Id);
        return leased;
    }

    /// <summary>Lets <paramref name="holder"/>'s lease expire and has <paramref name="newOwner"/> acquire the saga (token raised).</summary>
    public async Task<SagaRecord> TakeOverAsync(SagaRecord holder, string newOwner = OwnerB)
    {
        Assert.NotNull(holder.LeaseExpiresAt);
        Advance(holder.LeaseExpiresAt.Value - Now);
        SagaRecord taken = await AcquireOneAsync(newOwner);
        Assert.Equal(holder.Id, taken.Id);
        Assert.Equal(holder.LeaseToken + 1, taken.LeaseToken);
        return taken;
    }

    /// <summary>A checkpoint by the holder of <paramref name="leased"/> (its owner and token), updated now.</summary>
    public SagaCheckpoint Checkpoint(
        SagaRecord leased,
        SagaStatus status = SagaStatus.Running,
        string data = """{"orderId":42,"reserved":true}""",
        string progress = "reserve-stock:done",
        string? error = null,
        IReadOnlyList<SagaEvent>? events = null,
        bool releaseLease = false,
        string? owner = null,
        long? token = null,
        DateTimeOffset? updatedAt = null) => new()
        {
            SagaId = leased.Id,
            LeaseOwner = owner ?? leased.LeaseOwner ?? throw new ArgumentException("The saga is not leased; pass owner.", nameof(leased)),
            LeaseToken = token ?? leased.LeaseToken,
            Status = status,
            Data = data,
            Progress = progress,
            Error = error,
            UpdatedAt = updatedAt ?? Now,
            Events = events ?? [],
            ReleaseLease = releaseLease,
        };

    public async Task<bool> CheckpointAsync(SagaCheckpoint checkpoint) => await Store.CheckpointAsync(checkpoint, Ct);

    public async Task<IReadOnlyList<string>> RenewAsync(string owner, params SagaLease[] leases) =>
        await Store.RenewLeasesAsync(owner, leases, DefaultLease, Ct);

    public async Task ReleaseAsync(string owner, params SagaLease[] leases) =>
        await Store.ReleaseLeasesAsync(owner, leases, Ct);

    public async Task<bool> TransitionAsync(SagaTransition transition) => await Store.TransitionAsync(transition, Ct);

    /// <summary>Reads a saga that must exist.</summary>
    public async Task<SagaRecord> GetAsync(string id)
    {
        SagaRecord? saga = await Store.GetAsync(id, Ct);
        Assert.NotNull(saga);
        return saga;
    }

    public async Task<IReadOnlyList<SagaEvent>> EventsAsync(string id) => await Store.GetEventsAsync(id, Ct);

    public async Task<IReadOnlyList<SagaRecord>> QueryAsync(SagaQuery query) => await Store.QueryAsync(query, Ct);

    /// <summary>The saga row (or null) and its history, to compare before and after a call that must change nothing.</summary>
    public async Task<StoredSaga> SnapshotAsync(string id) =>
        new(await Store.GetAsync(id, Ct), await Store.GetEventsAsync(id, Ct));

    /// <summary>Asserts the saga's row and history are what <paramref name="before"/> recorded.</summary>
    public async Task AssertUnchangedAsync(StoredSaga before)
    {
        string id = before.Saga?.Id ?? throw new ArgumentException("Snapshot of an unknown saga.", nameof(before));
        StoredSaga after = await SnapshotAsync(id);
        AssertSameRecord(before.Saga, after.Saga);
        AssertSameEvents(before.Events, after.Events);
    }

    /// <summary>Asserts two rows are equal in every field (times by instant).</summary>
    public static void AssertSameRecord(SagaRecord? expected, SagaRecord? actual)
    {
        if (expected is null || actual is null)
        {
            Assert.Equal(expected, actual);
            return;
        }

        // Field by field first so a failure names the field; then the whole record, so a field added later is covered too.
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Status, actual.Status);
        Assert.True(expected.Data == actual.Data, $"Data differs (expected {expected.Data.Length} chars, got {actual.Data.Length}).");
        Assert.True(expected.Progress == actual.Progress, $"Progress differs (expected {expected.Progress.Length} chars, got {actual.Progress.Length}).");
        Assert.Equal(expected.Error, actual.Error);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.UpdatedAt, actual.UpdatedAt);
        Assert.Equal(expected.LeaseOwner, actual.LeaseOwner);
        Assert.Equal(expected.LeaseToken, actual.LeaseToken);
        Assert.Equal(expected.LeaseExpiresAt, actual.LeaseExpiresAt);
        Assert.True(expected == actual, "The records differ in a field the field-by-field check does not cover.");
    }

    /// <summary>Asserts two histories are equal line by line.</summary>
    public static void AssertSameEvents(IReadOnlyList<SagaEvent> expected, IReadOnlyList<SagaEvent> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }
    }

    /// <summary>Asserts every time of a row read back is in UTC (offset zero).</summary>
    public static void AssertUtc(SagaRecord saga)
    {
        Assert.Equal(TimeSpan.Zero, saga.CreatedAt.Offset);
        Assert.Equal(TimeSpan.Zero, saga.UpdatedAt.Offset);
        if (saga.LeaseExpiresAt is { } expires)
        {
            Assert.Equal(TimeSpan.Zero, expires.Offset);
        }
    }
}

/// <summary>A saga's row (null when unknown) and its history at one moment.</summary>
/// <param name="Saga">The row.</param>
/// <param name="Events">The history.</param>
public sealed record StoredSaga(SagaRecord? Saga, IReadOnlyList<SagaEvent> Events);
