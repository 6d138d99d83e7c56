using System.Text;
using BuildingBlocks.Caching.Tests.Support;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Backplane;

/// <summary>Two nodes: two caches over one store, connected by an in-process backplane.</summary>
public sealed class BackplaneTests : IAsyncLifetime
{
    private readonly RecordingStore _store = new();
    private readonly FlakyBackplane _backplane = new();
    private Cache<string, string> _a = null!;
    private Cache<string, string> _b = null!;

    public async ValueTask InitializeAsync()
    {
        _store["k"] = "old";
        _a = Create(_store, backplane: _backplane);
        _b = Create(_store, backplane: _backplane);
        await _a.StartAsync(Ct);
        await _b.StartAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        _backplane.Failing = false;
        await DisposeWithinLimitAsync(_a);
        await DisposeWithinLimitAsync(_b);
    }

    [Theory]
    [InlineData(WriteStrategy.WriteThrough)]
    [InlineData(WriteStrategy.WriteAround)]
    public async Task WriteOnA_DropsBsL1Entry(WriteStrategy strategy)
    {
        await _b.GetOrLoadAsync("k", Ct);

        await _a.SetAsync("k", "new", strategy, Ct);

        Assert.False(_b.TryGetLocal("k", out _));
        Assert.Equal("new", await _b.GetOrLoadAsync("k", Ct));
        Assert.Equal(1, _a.GetStatistics().InvalidationsSent);
        Assert.Equal(1, _b.GetStatistics().InvalidationsReceived);
        Assert.Equal(0, _b.GetStatistics().Revalidations);
    }

    [Fact]
    public async Task WriteBackOnA_DropsBsL1Entry_OnceTheWriteIsInTheStore()
    {
        await _b.GetOrLoadAsync("k", Ct);

        await _a.SetAsync("k", "new", WriteStrategy.WriteBack, Ct);
        await _a.FlushAsync(Ct);

        Assert.False(_b.TryGetLocal("k", out _));
        Assert.Equal("new", await _b.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task RemoveAndInvalidateOnA_DropBsL1Entry()
    {
        _store["other"] = "o";
        await _b.GetOrLoadAsync("k", Ct);
        await _b.GetOrLoadAsync("other", Ct);

        await _a.RemoveAsync("k", Ct);
        _store["other"] = "changed behind the cache's back";
        await _a.InvalidateAsync("other", Ct);

        Assert.False(_b.TryGetLocal("k", out _));
        Assert.False(_b.TryGetLocal("other", out _));
        Assert.Null(await _b.GetOrLoadAsync("k", Ct));
        Assert.Equal("changed behind the cache's back", await _b.GetOrLoadAsync("other", Ct));
    }

    [Fact]
    public async Task ANodeKeepsItsOwnWrite_ItIgnoresItsOwnInvalidation()
    {
        await _a.SetAsync("k", "mine", Ct);

        Assert.True(_a.TryGetLocal("k", out string mine));
        Assert.Equal("mine", mine);
        Assert.Equal(0, _a.GetStatistics().InvalidationsReceived);
    }

    [Fact]
    public async Task LoadOnBRacingAnInvalidationFromA_IsNotCached()
    {
        Gate read = _store.PauseNextLoadAfterRead("k");
        Task<string?> load = _b.GetOrLoadAsync("k", CancellationToken.None).AsTask();
        await read.WaitUntilEnteredAsync("B's load has read the old value");

        await _a.SetAsync("k", "new", Ct);
        read.Release();
        await Eventually.CompletesAsync(load, "B's load completes");

        Assert.False(_b.TryGetLocal("k", out _));
        Assert.Equal("new", await _b.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task GapInASendersSequence_MakesTheReceiverRevalidate()
    {
        var sender = Guid.NewGuid();
        await Publish(sender, 1);
        await Publish(sender, 2);
        await _b.GetOrLoadAsync("k", Ct);
        Assert.Equal(0, _b.GetStatistics().Revalidations);

        await Publish(sender, 4);

        CacheStatistics stats = _b.GetStatistics();
        Assert.Equal(1, stats.Revalidations);
        Assert.Equal(0, stats.L1Count);
        Assert.False(_b.TryGetLocal("k", out _));
        Assert.Equal(1, _a.GetStatistics().Revalidations);

        // A late message with a lower number is not another gap.
        await _b.GetOrLoadAsync("k", Ct);
        await Publish(sender, 3);
        await Publish(sender, 5);
        Assert.Equal(1, _b.GetStatistics().Revalidations);
        Assert.True(_b.TryGetLocal("k", out _));
    }

    [Fact]
    public async Task Revalidation_KeepsThisNodesPendingWriteBackWrites_Readable()
    {
        await _b.SetAsync("mine", "not flushed yet", WriteStrategy.WriteBack, Ct);

        _backplane.Inner.SimulateReconnect("connection restored");

        Assert.Equal(1, _b.GetStatistics().Revalidations);
        Assert.True(_b.TryGetLocal("mine", out string value));
        Assert.Equal("not flushed yet", value);
        Assert.Equal("not flushed yet", await _b.GetOrLoadAsync("mine", Ct));
        await _b.FlushAsync(Ct);
        Assert.Equal("not flushed yet", _store["mine"]);
    }

    [Fact]
    public async Task MessagesForAnotherCache_AreIgnored()
    {
        await _b.GetOrLoadAsync("k", Ct);
        var sender = Guid.NewGuid();

        await Publish(sender, 1, cache: "someone-else", key: "\"k\"", kind: BackplaneMessageKind.Invalidate);
        await Publish(sender, 7, cache: "someone-else", kind: BackplaneMessageKind.Clear);

        Assert.True(_b.TryGetLocal("k", out _));
        Assert.Equal(0, _b.GetStatistics().InvalidationsReceived);
        Assert.Equal(0, _b.GetStatistics().Revalidations);
    }

    [Fact]
    public async Task ClearMessage_EmptiesL1()
    {
        _store["x"] = "x";
        await _b.GetOrLoadAsync("k", Ct);
        await _b.GetOrLoadAsync("x", Ct);

        await Publish(Guid.NewGuid(), 1, kind: BackplaneMessageKind.Clear);

        Assert.Equal(0, _b.GetStatistics().L1Count);
        Assert.Equal(1, _b.GetStatistics().InvalidationsReceived);
    }

    [Fact]
    public async Task InvalidationWithAnUnreadableKey_MakesTheReceiverRevalidate()
    {
        await _b.GetOrLoadAsync("k", Ct);

        await Publish(Guid.NewGuid(), 1, key: "{not json", kind: BackplaneMessageKind.Invalidate);

        Assert.False(_b.TryGetLocal("k", out _));
        Assert.Equal(1, _b.GetStatistics().Revalidations);
    }

    [Fact]
    public async Task Reconnect_MakesEveryNodeRevalidate()
    {
        var sender = Guid.NewGuid();
        await Publish(sender, 1);
        await _a.GetOrLoadAsync("k", Ct);
        await _b.GetOrLoadAsync("k", Ct);

        _backplane.Inner.SimulateReconnect("connection restored");

        Assert.Equal(1, _a.GetStatistics().Revalidations);
        Assert.Equal(1, _b.GetStatistics().Revalidations);
        Assert.False(_a.TryGetLocal("k", out _));
        Assert.False(_b.TryGetLocal("k", out _));

        // Whatever the receiver makes of the sender's next number, messages in sequence after it revalidate nothing.
        await Publish(sender, 9);
        long afterReconnect = _b.GetStatistics().Revalidations;
        await _b.GetOrLoadAsync("k", Ct);
        await Publish(sender, 10);
        await Publish(sender, 11);
        Assert.Equal(afterReconnect, _b.GetStatistics().Revalidations);
        Assert.True(_b.TryGetLocal("k", out _));
    }

    [Fact]
    public async Task FailingBackplane_WriteStillSucceeds_FailureIsCounted_AndTheOtherNodeRevalidatesOnceItWorks()
    {
        _store["warm-up"] = "w";
        await _a.SetAsync("warm-up", "w2", Ct);
        await _b.GetOrLoadAsync("k", Ct);
        _backplane.Failing = true;

        await _a.SetAsync("k", "new", Ct);

        Assert.Equal("new", _store["k"]);
        Assert.True(_a.TryGetLocal("k", out string onA));
        Assert.Equal("new", onA);
        Assert.True(_a.GetStatistics().DistributedFailures >= 1);

        // The invalidation was lost: B is stale until the backplane works again.
        Assert.True(_b.TryGetLocal("k", out string stale));
        Assert.Equal("old", stale);

        _backplane.Failing = false;
        await Eventually.TrueAsync(() => _b.GetStatistics().Revalidations == 1, "B sees the gap in A's numbers (heartbeat) and revalidates");
        Assert.False(_b.TryGetLocal("k", out _));
        Assert.Equal("new", await _b.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task FailingBackplane_ANodesFirstMessageLost_TheOtherNodeStillRevalidatesOnceItWorks()
    {
        // B has never heard from A when A's first invalidation is lost: only A's later numbers can tell B.
        await _b.GetOrLoadAsync("k", Ct);
        _backplane.Failing = true;

        await _a.SetAsync("k", "new", Ct);
        _backplane.Failing = false;

        // Heartbeats start 100 ms after the failure: 5 s is plenty when it works, and keeps the run short when it does not.
        await Eventually.TrueAsync(() => !_b.TryGetLocal("k", out _), "B drops the entry A's lost message was about", TimeSpan.FromSeconds(5));
        Assert.Equal("new", await _b.GetOrLoadAsync("k", Ct));
    }

    [Fact]
    public async Task StoppedNode_ReceivesNothingMore()
    {
        await _b.GetOrLoadAsync("k", Ct);
        await _b.StopAsync(Ct);

        await _a.SetAsync("k", "new", Ct);

        Assert.Equal(0, _b.GetStatistics().InvalidationsReceived);
    }

    [Fact]
    public async Task Start_IsIdempotent_ANodeSubscribesOnce()
    {
        await _b.StartAsync(Ct);
        await _b.GetOrLoadAsync("k", Ct);

        await _a.SetAsync("k", "new", Ct);

        Assert.Equal(1, _b.GetStatistics().InvalidationsReceived);
    }

    private ValueTask Publish(Guid sender, long sequence, string cache = Name, string key = "", BackplaneMessageKind kind = BackplaneMessageKind.Heartbeat) =>
        _backplane.Inner.PublishAsync(new BackplaneMessage(sender, sequence, cache, Encoding.UTF8.GetBytes(key), Version: sequence, kind), Ct);
}
