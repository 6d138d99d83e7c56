using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Backplane;

/// <summary>Two nodes over one store, one L2 and one backplane: concurrent writes on both nodes.</summary>
public sealed class TwoNodesWithL2Tests : IAsyncLifetime
{
    private readonly RecordingStore _store = new();
    private readonly MemoryDistributedCache _l2 = NewL2();
    private readonly InMemoryCacheBackplane _backplane = new();
    private FaultyDistributedCache _aL2 = null!;
    private Cache<string, string> _a = null!;
    private Cache<string, string> _b = null!;

    public async ValueTask InitializeAsync()
    {
        _store["k"] = "old";
        _aL2 = new FaultyDistributedCache(_l2);
        _a = Create(_store, l2: _aL2, backplane: _backplane);
        _b = Create(_store, l2: _l2, backplane: _backplane);
        await _a.StartAsync(Ct);
        await _b.StartAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeWithinLimitAsync(_a);
        await DisposeWithinLimitAsync(_b);
    }

    /// <summary>
    /// A's write reaches the store first, B's second; A's L2 update is slow and lands after B's. L2 has no
    /// compare-and-set, so the cache must not leave A's older value there for every node to read.
    /// </summary>
    [Fact]
    public async Task WriteThroughsOnBothNodes_WhoseL2UpdatesLandOutOfOrder_LeaveNoOlderValueInL2()
    {
        // A's write is in the store, then B's whole write happens, then A's L2 update lands: writes only clear L2,
        // so whatever order they land in, L2 holds nothing older than the store.
        Gate aWrite = _store.HoldWrites();
        Task writeOnA = _a.SetAsync("k", "from A", WriteStrategy.WriteThrough, CancellationToken.None).AsTask();
        await aWrite.WaitUntilEnteredAsync("A is writing the store");
        _store.HoldWrites().Release();
        aWrite.Release();
        await Eventually.CompletesAsync(writeOnA, "A's write completes");
        await _b.SetAsync("k", "from B", WriteStrategy.WriteThrough, Ct);

        Assert.Null(await _l2.GetAsync(L2Key("k"), Ct));
        await using Cache<string, string> c = Create(_store, l2: _l2);
        Assert.Equal("from B", await c.GetOrLoadAsync("k", Ct));
        Assert.Equal("from B", await _a.GetOrLoadAsync("k", Ct));
        Assert.Equal("from B", await _b.GetOrLoadAsync("k", Ct));
    }

    /// <summary>
    /// A's write-through is in the store but A has not finished it; B's whole write of the key happens meanwhile (its
    /// invalidation reaches A while A's write is in flight). When A finishes, its L1 must not keep A's older value.
    /// </summary>
    [Theory]
    [InlineData(WriteStrategy.WriteThrough)]
    [InlineData(WriteStrategy.WriteAround)]
    public async Task WriteThroughOnA_OvertakenByAWriteOnB_WhileInFlight_DoesNotLeaveAsOlderValueInAsL1(WriteStrategy strategyOnB)
    {
        Gate applied = _store.PauseNextSaveAfterApply();
        Task writeOnA = _a.SetAsync("k", "from A", WriteStrategy.WriteThrough, CancellationToken.None).AsTask();
        await applied.WaitUntilEnteredAsync("A's value is in the store, A has not finished its write");

        await _b.SetAsync("k", "from B", strategyOnB, Ct);
        Assert.Equal("from B", _store["k"]);
        applied.Release();
        await Eventually.CompletesAsync(writeOnA, "A's write completes");

        Assert.Equal("from B", await _a.GetOrLoadAsync("k", Ct));
        Assert.Equal("from B", await _b.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task WriteOnA_RemovesTheKeyFromL2_AndFromBsL1()
    {
        await _b.GetOrLoadAsync("k", Ct);
        Assert.NotNull(await _l2.GetAsync(L2Key("k"), Ct));

        await _a.SetAsync("k", "new", WriteStrategy.WriteAround, Ct);

        Assert.Null(await _l2.GetAsync(L2Key("k"), Ct));
        Assert.False(_b.TryGetLocal("k", out _));
        Assert.Equal("new", await _b.GetOrLoadAsync("k", Ct));
    }
}
