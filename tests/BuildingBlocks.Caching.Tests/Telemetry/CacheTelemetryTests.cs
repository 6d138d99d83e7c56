using System.Diagnostics;
using System.Diagnostics.Metrics;
using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Telemetry;

public sealed class CacheTelemetryTests
{
    private readonly RecordingStore _store = new();

    private async Task<IHost> StartHostAsync(Action<CacheOptions<string, string>> configure)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Start));
        builder.Services.AddCacheStrategies().AddCache<string, string>(o =>
        {
            o.Name = "metered";
            configure(o);
        }).WithBackingStore(_ => _store);
        IHost host = builder.Build();
        await host.StartAsync(Ct);
        return host;
    }

    [Fact]
    public async Task Meter_CountsHitsMissesAndLoads_OnAMeterFromTheHostsFactory_TaggedWithTheCacheName()
    {
        _store["k"] = "v";
        using IHost host = await StartHostAsync(_ => { });
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var hits = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.HitsInstrument);
        using var misses = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.MissesInstrument);
        using var loads = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.LoadsInstrument);
        using var loadTime = new MetricCollector<double>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.LoadDurationInstrument);
        ICache<string, string> cache = host.Services.GetRequiredService<ICache<string, string>>();

        await cache.GetOrLoadAsync("k", Ct);
        await cache.GetOrLoadAsync("k", Ct);
        await cache.GetOrLoadAsync("k", Ct);

        Assert.Equal(2, hits.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.All(hits.GetMeasurementSnapshot(), m => Assert.Equal("l1", m.Tags[CachingDiagnostics.LayerTag]));
        Assert.Equal(1, misses.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, loads.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Single(loadTime.GetMeasurementSnapshot());
        Assert.Contains(hits.Instrument!.Meter.Tags!, t => t.Key == CachingDiagnostics.CacheTag && (string?)t.Value == "metered");
        Assert.Equal("{read}", hits.Instrument.Unit);
        Assert.Equal("s", loadTime.Instrument!.Unit);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Meter_CountsStoreWritesByStrategy_AndCoalescedWrites()
    {
        using IHost host = await StartHostAsync(o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)));
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var writes = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.StoreWritesInstrument);
        using var coalesced = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.CoalescedWritesInstrument);
        ICache<string, string> cache = host.Services.GetRequiredService<ICache<string, string>>();

        for (int i = 0; i < 30; i++)
        {
            await cache.SetAsync($"k{i % 3}", $"v{i}", Ct);
        }

        await cache.SetAsync("through", "t", WriteStrategy.WriteThrough, Ct);
        await cache.SetAsync("around", "a", WriteStrategy.WriteAround, Ct);
        await cache.FlushAsync(Ct);

        Assert.Equal(27, coalesced.GetMeasurementSnapshot().EvaluateAsCounter());
        IReadOnlyList<CollectedMeasurement<long>> byStrategy = writes.GetMeasurementSnapshot();
        Assert.Equal(3, byStrategy.Where(m => (string?)m.Tags[CachingDiagnostics.StrategyTag] == "write_back").Sum(m => m.Value));
        Assert.Equal(1, byStrategy.Where(m => (string?)m.Tags[CachingDiagnostics.StrategyTag] == "write_through").Sum(m => m.Value));
        Assert.Equal(1, byStrategy.Where(m => (string?)m.Tags[CachingDiagnostics.StrategyTag] == "write_around").Sum(m => m.Value));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Meter_ObservesWriteBackDepthAndL1Count()
    {
        using IHost host = await StartHostAsync(o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromHours(1)));
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var depth = new MetricCollector<int>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.WriteBackDepthInstrument);
        using var l1 = new MetricCollector<int>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.L1CountInstrument);
        ICache<string, string> cache = host.Services.GetRequiredService<ICache<string, string>>();

        await cache.SetAsync("a", "1", Ct);
        await cache.SetAsync("b", "2", Ct);
        depth.RecordObservableInstruments();
        l1.RecordObservableInstruments();

        Assert.Equal(2, depth.LastMeasurement!.Value);
        Assert.Equal(2, l1.LastMeasurement!.Value);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Meter_CountsLoadFailuresFlushFailuresAndDeadLetters()
    {
        _store.FailLoadsOf("broken");
        _store.RejectWritesOf("poison");
        using IHost host = await StartHostAsync(o => o.WriteBack(w =>
        {
            w.MaxAttempts = 1;
            w.FlushInterval = TimeSpan.FromHours(1);
        }));
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var loadFailures = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.LoadFailuresInstrument);
        using var flushFailures = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.FlushFailuresInstrument);
        using var deadLetters = new MetricCollector<long>(meters, CachingDiagnostics.MeterName, CachingDiagnostics.DeadLettersInstrument);
        ICache<string, string> cache = host.Services.GetRequiredService<ICache<string, string>>();

        await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.GetOrLoadAsync("broken", Ct));
        await cache.SetAsync("poison", "p", Ct);
        await cache.SetAsync("fine", "f", Ct);

        // On the fake clock the isolated retry is due only once the clock moves.
        FakeTimeProvider time = (FakeTimeProvider)host.Services.GetRequiredService<TimeProvider>();
        Task flush = cache.FlushAsync(CancellationToken.None).AsTask();
        await AdvanceUntilCompletedAsync(time, flush, TimeSpan.FromSeconds(1), "the poison write is dead-lettered");

        Assert.Equal(1, loadFailures.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.True(flushFailures.GetMeasurementSnapshot().EvaluateAsCounter() >= 2);
        Assert.Equal(1, deadLetters.GetMeasurementSnapshot().EvaluateAsCounter());
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Activities_WrapLoadsAndStoreWrites_TaggedWithCacheAndStrategy()
    {
        string name = "traced-" + Guid.NewGuid().ToString("N");
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CachingDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if ((string?)a.GetTagItem(CachingDiagnostics.CacheTag) == name)
                {
                    lock (stopped)
                    {
                        stopped.Add(a);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        _store["k"] = "v";
        _store.FailLoadsOf("bad");
        await using Cache<string, string> cache = Create(_store, o => o.Name = name);

        await cache.GetOrLoadAsync("k", Ct);
        await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.GetOrLoadAsync("bad", Ct));
        await cache.SetAsync("k", "w", WriteStrategy.WriteAround, Ct);

        lock (stopped)
        {
            Assert.Equal(2, stopped.Count(a => a.OperationName == CachingDiagnostics.LoadActivity));
            Assert.Single(stopped, a => a.OperationName == CachingDiagnostics.LoadActivity && a.Status == ActivityStatusCode.Error);
            Activity write = Assert.Single(stopped, a => a.OperationName == CachingDiagnostics.StoreWriteActivity);
            Assert.Equal("write_around", write.GetTagItem(CachingDiagnostics.StrategyTag));
            Assert.Equal(ActivityKind.Client, write.Kind);
        }
    }

    [Fact]
    public async Task Logs_UseTheDocumentedEventIds()
    {
        using var provider = new FakeLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Debug));
        _store.FailLoadsOf("bad");
        _store.RejectWritesOf("bad");
        var backplane = new InMemoryCacheBackplane();
        await using var cache = new Cache<string, string>(_store, new CacheOptions<string, string> { Name = "logged" }, backplane: backplane, loggerFactory: loggers);
        await cache.StartAsync(Ct);

        await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.GetOrLoadAsync("bad", Ct));
        await Assert.ThrowsAsync<CacheStoreException>(async () => await cache.SetAsync("bad", "x", Ct));
        backplane.SimulateReconnect("test reconnect");

        IReadOnlyList<FakeLogRecord> records = provider.Collector.GetSnapshot();
        FakeLogRecord loadFailed = Assert.Single(records, r => r.Id.Id == 3000);
        Assert.Equal("LoadFailed", loadFailed.Id.Name);
        Assert.Equal(LogLevel.Warning, loadFailed.Level);
        Assert.Contains("'logged'", loadFailed.Message, StringComparison.Ordinal);
        Assert.Single(records, r => r.Id.Id == 3011 && r.Id.Name == "StoreWriteFailed");
        FakeLogRecord revalidating = Assert.Single(records, r => r.Id.Id == 3005);
        Assert.Contains("test reconnect", revalidating.Message, StringComparison.Ordinal);
    }
}
