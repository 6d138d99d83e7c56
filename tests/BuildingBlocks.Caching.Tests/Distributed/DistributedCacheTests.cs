using System.Buffers.Binary;
using System.Text;
using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Distributed;

/// <summary>L2: a real <see cref="MemoryDistributedCache"/> shared by two nodes, and a faulty one in front of it.</summary>
public sealed class DistributedCacheTests
{
    private readonly RecordingStore _store = new();
    private readonly MemoryDistributedCache _l2 = NewL2();
    private readonly FakeTimeProvider _time = NewClock();

    public DistributedCacheTests()
    {
        _store["k"] = "value";
    }

    [Fact]
    public async Task NodeB_ReadsWhatNodeALoaded_FromL2_WithoutAStoreLoad()
    {
        await using Cache<string, string> a = Create(_store, l2: _l2);
        await using Cache<string, string> b = Create(_store, l2: _l2);

        await a.GetOrLoadAsync("k", Ct);
        Assert.Equal("value", await b.GetOrLoadAsync("k", Ct));

        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, b.GetStatistics().L2Hits);
        Assert.Equal(0, b.GetStatistics().StoreLoads);

        // What B read from L2 is now in B's L1.
        Assert.True(b.TryGetLocal("k", out _));
    }

    [Fact]
    public async Task GetAsync_ReadsL2_ButNeverTheStore()
    {
        _store["only-in-store"] = "s";
        await using Cache<string, string> a = Create(_store, l2: _l2);
        await using Cache<string, string> b = Create(_store, l2: _l2);
        await a.GetOrLoadAsync("k", Ct);

        LoadResult<string> fromL2 = await b.GetAsync("k", Ct);
        LoadResult<string> nowhere = await b.GetAsync("only-in-store", Ct);

        Assert.True(fromL2.HasValue);
        Assert.Equal("value", fromL2.Value);
        Assert.False(nowhere.HasValue);
        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, b.GetStatistics().L2Hits);
    }

    [Fact]
    public async Task GetMany_TakesWhatL2Has_AndLoadsOnlyTheRest()
    {
        _store["x"] = "X";
        _store["y"] = "Y";
        await using Cache<string, string> a = Create(_store, l2: _l2);
        await using Cache<string, string> b = Create(_store, l2: _l2);
        await a.GetOrLoadAsync("k", Ct);

        IReadOnlyDictionary<string, string> result = await b.GetManyAsync(["k", "x", "y"], Ct);

        Assert.Equal(3, result.Count);
        StoreCall<string, string> many = Assert.Single(_store.Calls, c => c.Kind == StoreCallKind.LoadMany);
        Assert.Equal(["x", "y"], many.Keys.Order());
        Assert.Equal(1, b.GetStatistics().L2Hits);
    }

    [Fact]
    public async Task ValuesOverMaxDistributedValueBytes_SkipL2_ButStayInL1()
    {
        _store["big"] = new string('x', 100);
        _store["small"] = "s";
        await using Cache<string, string> a = Create(_store, o => o.MaxDistributedValueBytes = 50, l2: _l2);

        await a.GetOrLoadAsync("big", Ct);
        await a.GetOrLoadAsync("small", Ct);
        await a.SetAsync("big-write", new string('y', 100), Ct);

        Assert.Null(await _l2.GetAsync(L2Key("big"), Ct));
        Assert.Null(await _l2.GetAsync(L2Key("big-write"), Ct));
        Assert.NotNull(await _l2.GetAsync(L2Key("small"), Ct));
        Assert.True(a.TryGetLocal("big", out _));
        Assert.True(a.TryGetLocal("big-write", out _));
    }

    [Fact]
    public async Task OversizedWrite_RemovesAnOlderSmallValueFromL2()
    {
        _store["k"] = "small";
        await using Cache<string, string> a = Create(_store, o => o.MaxDistributedValueBytes = 50, l2: _l2);
        await a.GetOrLoadAsync("k", Ct);
        Assert.NotNull(await _l2.GetAsync(L2Key("k"), Ct));

        await a.SetAsync("k", new string('z', 100), Ct);

        // Otherwise another node would read the old small value from L2.
        Assert.Null(await _l2.GetAsync(L2Key("k"), Ct));
    }

    [Fact]
    public async Task ThrowingL2_CacheKeepsWorking_CountsTheFailure_AndSkipsL2WhileTheCircuitIsOpen()
    {
        var faulty = new FaultyDistributedCache(_l2) { Mode = L2Mode.Throwing };
        _store["other"] = "o";
        await using Cache<string, string> cache = Create(_store, o => o.DistributedCircuitBreakDuration = TimeSpan.FromSeconds(5), l2: faulty, time: _time);

        Assert.Equal("value", await cache.GetOrLoadAsync("k", Ct));
        int callsWhenOpened = faulty.Calls;
        Assert.Equal(1, callsWhenOpened);
        Assert.Equal(1, cache.GetStatistics().DistributedFailures);

        // While the circuit is open L2 is not called at all.
        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.Equal("o", await cache.GetOrLoadAsync("other", Ct));
        await cache.SetAsync("w", "written", Ct);
        await cache.SetAsync("w2", "around", WriteStrategy.WriteAround, Ct);
        await cache.InvalidateAsync("k", Ct);
        Assert.False((await cache.GetAsync("nothing", Ct)).HasValue);
        Assert.Equal(callsWhenOpened, faulty.Calls);
        Assert.Equal(1, cache.GetStatistics().DistributedFailures);

        // After the break L2 is tried again.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        faulty.Mode = L2Mode.Working;
        Assert.Equal("value", await cache.GetOrLoadAsync("k", Ct));
        Assert.True(faulty.Calls > callsWhenOpened);
    }

    [Fact]
    public async Task HangingL2_TimesOutAfterDistributedTimeout_AndTheCacheCarriesOn()
    {
        var faulty = new FaultyDistributedCache(_l2) { Mode = L2Mode.Hanging };
        await using Cache<string, string> cache = Create(_store, o => o.DistributedTimeout = TimeSpan.FromMilliseconds(500), l2: faulty, time: _time);

        Task<string?> read = cache.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await AdvanceUntilCompletedAsync(_time, read, TimeSpan.FromMilliseconds(250), "the L2 read times out");

        Assert.Equal("value", await read);
        Assert.Equal(1, _store.Loads);
        Assert.Equal(1, cache.GetStatistics().DistributedFailures);

        // The circuit is open now: writes do not wait for the hung L2.
        await cache.SetAsync("k", "new", Ct);
        Assert.Equal("new", _store["k"]);
    }

    [Fact]
    public async Task KeysWhoseL2RemovalFailed_AreRemovedOnceL2AnswersAgain()
    {
        var faulty = new FaultyDistributedCache(_l2);
        _store["other"] = "o";
        await using Cache<string, string> a = Create(_store, o => o.WriteAround(), l2: faulty, time: _time);
        await a.GetOrLoadAsync("k", Ct);
        Assert.NotNull(await _l2.GetAsync(L2Key("k"), Ct));

        faulty.Mode = L2Mode.Throwing;
        await a.SetAsync("k", "new", Ct);

        // The old value is still in L2 (its removal failed): this is the window the repair closes.
        Assert.Equal("new", _store["k"]);
        Assert.NotNull(await _l2.GetAsync(L2Key("k"), Ct));
        Assert.True(a.GetStatistics().DistributedFailures >= 1);

        faulty.Mode = L2Mode.Working;
        _time.Advance(TimeSpan.FromSeconds(6));
        await a.GetOrLoadAsync("other", Ct);

        await Eventually.TrueAsync(() => _l2.Get(L2Key("k")) is null, "the failed removal is repaired");
        await using Cache<string, string> b = Create(_store, l2: _l2, time: _time);
        Assert.Equal("new", await b.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task WriteThroughWhileL2Fails_LeavesNoOldValueInL2OnceItAnswersAgain()
    {
        var faulty = new FaultyDistributedCache(_l2);
        _store["other"] = "o";
        await using Cache<string, string> a = Create(_store, l2: faulty, time: _time);
        await a.GetOrLoadAsync("k", Ct);

        faulty.Mode = L2Mode.Throwing;
        await a.SetAsync("k", "new", Ct);
        faulty.Mode = L2Mode.Working;
        _time.Advance(TimeSpan.FromSeconds(6));
        await a.GetOrLoadAsync("other", Ct);

        await Eventually.TrueAsync(() => _l2.Get(L2Key("k")) is null, "the key whose L2 write failed is removed from L2");
        await using Cache<string, string> b = Create(_store, l2: _l2, time: _time);
        Assert.Equal("new", await b.GetOrLoadAsync("k", Ct));
    }

    public static TheoryData<string, byte[]> Unreadable => new()
    {
        { "empty", [] },
        { "too short", [1, 2, 3] },
        { "unknown format", Entry(format: 2, "\"value\"") },
        { "not JSON", Entry(format: 1, "{oops") },
        { "JSON null", Entry(format: 1, "null") },
    };

    [Theory]
    [MemberData(nameof(Unreadable))]
    public async Task UnreadableL2Bytes_AreAMiss_AndAreRemoved(string what, byte[] bytes)
    {
        await _l2.SetAsync(L2Key("k"), bytes, Ct);
        await using Cache<string, string> cache = Create(_store, l2: _l2);

        Assert.False((await cache.GetAsync("k", Ct)).HasValue, what);
        Assert.Null(await _l2.GetAsync(L2Key("k"), Ct));

        await _l2.SetAsync(L2Key("k"), bytes, Ct);
        Assert.Equal("value", await cache.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, _store.Loads);
        byte[]? repaired = await _l2.GetAsync(L2Key("k"), Ct);
        Assert.NotNull(repaired);
        Assert.Equal(1, repaired[0]);
    }

    [Fact]
    public async Task L2Entry_IsFormatByte_Version_ThenTheSerializedValue_UnderThePrefixedKey()
    {
        await using Cache<string, string> cache = Create(_store, o =>
        {
            o.Name = "products";
            o.KeyFormatter = k => "id-" + k;
        }, l2: _l2);

        await cache.GetOrLoadAsync("k", Ct);

        byte[]? bytes = await _l2.GetAsync("bbcache:products:id-k", Ct);
        Assert.NotNull(bytes);
        Assert.Equal(1, bytes[0]);
        Assert.True(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(1)) > 0);
        Assert.Equal("\"value\"", Encoding.UTF8.GetString(bytes.AsSpan(9)));
    }

    [Fact]
    public async Task DefaultL2Key_UsesInvariantToStringForSimpleKeys_AndJsonOtherwise()
    {
        var ints = new RecordingStore<int, string>();
        ints[1234567] = "v";
        await using var byInt = new Cache<int, string>(ints, new CacheOptions<int, string> { Name = "ints" }, _l2);
        var points = new RecordingStore<Point, string>();
        points[new Point(1, 2)] = "v";
        await using var byPoint = new Cache<Point, string>(points, new CacheOptions<Point, string> { Name = "points" }, _l2);

        await byInt.GetOrLoadAsync(1234567, Ct);
        await byPoint.GetOrLoadAsync(new Point(1, 2), Ct);

        Assert.NotNull(await _l2.GetAsync("bbcache:ints:1234567", Ct));
        Assert.NotNull(await _l2.GetAsync("bbcache:points:{\"x\":1,\"y\":2}", Ct));
    }

    [Fact]
    public async Task CachesWithDifferentNames_DoNotShareL2Entries()
    {
        await using Cache<string, string> a = Create(_store, o => o.Name = "a", l2: _l2);
        await using Cache<string, string> b = Create(_store, o => o.Name = "b", l2: _l2);

        await a.GetOrLoadAsync("k", Ct);
        await b.GetOrLoadAsync("k", Ct);

        Assert.Equal(2, _store.Loads);
        Assert.Equal(0, b.GetStatistics().L2Hits);
    }

    [Fact]
    public async Task UseDistributedCacheFalse_NeverCallsL2()
    {
        var faulty = new FaultyDistributedCache(_l2);
        await using Cache<string, string> cache = Create(_store, o => o.UseDistributedCache = false, l2: faulty);

        await cache.GetOrLoadAsync("k", Ct);
        await cache.SetAsync("k", "v2", Ct);
        await cache.InvalidateAsync("k", Ct);
        await cache.GetAsync("k", Ct);

        Assert.Equal(0, faulty.Calls);
    }

    [Fact]
    public async Task CustomValueSerializer_IsUsedForL2()
    {
        await using Cache<string, string> a = Create(_store, o => o.ValueSerializer = new ReversingSerializer(), l2: _l2);
        await using Cache<string, string> b = Create(_store, o => o.ValueSerializer = new ReversingSerializer(), l2: _l2);

        await a.GetOrLoadAsync("k", Ct);

        byte[]? bytes = await _l2.GetAsync(L2Key("k"), Ct);
        Assert.Equal("eulav", Encoding.UTF8.GetString(bytes!.AsSpan(9)));
        Assert.Equal("value", await b.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, _store.Loads);
    }

    [Fact]
    public async Task SerializerThatThrows_KeepsTheValueOutOfL2_AndTheCacheWorking()
    {
        await using Cache<string, string> cache = Create(_store, o => o.ValueSerializer = new ThrowingSerializer(), l2: _l2);

        Assert.Equal("value", await cache.GetOrLoadAsync("k", Ct));
        await cache.SetAsync("w", "written", Ct);

        Assert.Null(await _l2.GetAsync(L2Key("k"), Ct));
        Assert.Null(await _l2.GetAsync(L2Key("w"), Ct));
        Assert.True(cache.TryGetLocal("w", out _));
        Assert.Equal("written", _store["w"]);
    }

    private static byte[] Entry(byte format, string json)
    {
        byte[] payload = Encoding.UTF8.GetBytes(json);
        byte[] bytes = new byte[9 + payload.Length];
        bytes[0] = format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), 42);
        payload.CopyTo(bytes.AsSpan(9));
        return bytes;
    }

    public sealed record Point(int X, int Y);

    private sealed class ReversingSerializer : ICacheSerializer<string>
    {
        public byte[] Serialize(string value) => Encoding.UTF8.GetBytes(new string([.. value.Reverse()]));

        public string Deserialize(ReadOnlySpan<byte> bytes) => new([.. Encoding.UTF8.GetString(bytes).Reverse()]);
    }

    private sealed class ThrowingSerializer : ICacheSerializer<string>
    {
        public byte[] Serialize(string value) => throw new NotSupportedException("cannot serialize");

        public string Deserialize(ReadOnlySpan<byte> bytes) => throw new NotSupportedException("cannot deserialize");
    }
}
