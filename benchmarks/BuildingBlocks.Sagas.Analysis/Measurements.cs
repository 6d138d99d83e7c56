using System.Diagnostics;
using System.Diagnostics.Metrics;
using BuildingBlocks.Sagas;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Sagas.Analysis;

/// <summary>The three saga figures of issue 6, each on a fresh store.</summary>
internal static class Measurements
{
    /// <summary>
    /// Checkpoint cost: sagas of no-op steps run one at a time, so every checkpoint is a lone durable commit (no group
    /// commit help). Every checkpoint's write time is recorded from the coordinator's own histogram.
    /// </summary>
    public static async Task CheckpointAsync(StoreChoice stores, int sagas, int steps)
    {
        ChainSettings settings = new() { Steps = steps };
        using CheckpointRecorder recorder = new();
        await using HostRun run = await HostRun.StartAsync(await stores.NewStoreAsync(), settings, maxConcurrent: 1);

        // Warm-up: JIT, connection pool, prepared statements.
        await run.RunAsync(2);
        recorder.Clear();
        long started = Stopwatch.GetTimestamp();
        await run.RunAsync(sagas);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        double[] values = recorder.Snapshot();
        int stepCount = sagas * steps;
        Console.WriteLine($"checkpoint [{stores.Kind}] {sagas} sagas x {steps} steps, one saga at a time: {values.Length} checkpoints");
        Console.WriteLine($"  checkpoint write  p50 {Percentile(values, 0.50):F3} ms  p90 {Percentile(values, 0.90):F3} ms  p99 {Percentile(values, 0.99):F3} ms  max {values.Max():F3} ms");
        Console.WriteLine($"  per step (action + checkpoint, wall)  {elapsed.TotalMilliseconds / stepCount:F3} ms  = {stepCount / elapsed.TotalSeconds:F0} steps/s");
    }

    /// <summary>Throughput: many sagas at once, so their checkpoints share commits.</summary>
    public static async Task ThroughputAsync(StoreChoice stores, int sagas, int steps, int concurrency)
    {
        ChainSettings settings = new() { Steps = steps };
        using CheckpointRecorder recorder = new();
        await using HostRun run = await HostRun.StartAsync(await stores.NewStoreAsync(), settings, concurrency);
        await run.RunAsync(Math.Min(concurrency, 32));
        recorder.Clear();
        long started = Stopwatch.GetTimestamp();
        await run.RunAsync(sagas);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        double[] values = recorder.Snapshot();
        int stepCount = sagas * steps;
        Console.WriteLine($"throughput [{stores.Kind}] {sagas} sagas x {steps} steps, {concurrency} at once: {elapsed.TotalSeconds:F2} s");
        Console.WriteLine($"  {stepCount / elapsed.TotalSeconds:F0} steps/s ({values.Length / elapsed.TotalSeconds:F0} checkpoints/s)  checkpoint write p50 {Percentile(values, 0.50):F3} ms  p99 {Percentile(values, 0.99):F3} ms");
    }

    /// <summary>
    /// Resume: sagas left in flight by a stopped host (their last step was running and was canceled; leases handed
    /// back) are picked up by a new host; measured from the new host's start until every one has finished.
    /// </summary>
    public static async Task ResumeAsync(StoreChoice stores, int sagas, int concurrency)
    {
        Action<ISagasBuilder> store = await stores.NewStoreAsync();
        ChainSettings holding = new() { Steps = 3, HoldLastStep = true };
        string[] ids;
        await using (HostRun first = await HostRun.StartAsync(store, holding, maxConcurrent: sagas, shutdownTimeout: TimeSpan.Zero))
        {
            ids = await first.StartManyAsync(sagas);
            while (holding.Held < sagas)
            {
                await Task.Delay(50);
            }
        }

        ChainSettings resuming = new() { Steps = 3 };
        long started = Stopwatch.GetTimestamp();
        await using HostRun second = await HostRun.StartAsync(store, resuming, concurrency);
        int finished = 0;
        foreach (string id in ids)
        {
            SagaSnapshot end = await second.Client.WaitForEndAsync(id);
            finished += end.Status == SagaStatus.Completed ? 1 : 0;
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        Console.WriteLine($"resume [{stores.Kind}] {sagas} in-flight sagas, {concurrency} at once: all finished {elapsed.TotalSeconds:F2} s after the new host started ({finished} completed)");
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>Listens to buildingblocks.sagas.checkpoint.duration and keeps every value (ms).</summary>
    private sealed class CheckpointRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _values = [];
        private readonly Lock _gate = new();

        public CheckpointRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SagasDiagnostics.MeterName && instrument.Name == SagasDiagnostics.CheckpointDurationInstrument)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                lock (_gate)
                {
                    _values.Add(value * 1000);
                }
            });
            _listener.Start();
        }

        public void Clear()
        {
            lock (_gate)
            {
                _values.Clear();
            }
        }

        public double[] Snapshot()
        {
            lock (_gate)
            {
                double[] values = [.. _values];
                Array.Sort(values);
                return values;
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>A host with the chain saga on the chosen store.</summary>
    private sealed class HostRun : IAsyncDisposable
    {
        private readonly IHost _host;

        private HostRun(IHost host)
        {
            _host = host;
            Client = host.Services.GetRequiredService<ISagaClient>();
        }

        public ISagaClient Client { get; }

        public static async Task<HostRun> StartAsync(Action<ISagasBuilder> store, ChainSettings settings, int maxConcurrent, TimeSpan? shutdownTimeout = null)
        {
            HostApplicationBuilder builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddMetrics();
            builder.Services.AddSingleton(settings);
            ISagasBuilder sagas = builder.Services.AddSagas(o =>
            {
                o.MaxConcurrentSagas = maxConcurrent;
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(10);
            }).AddSaga<ChainSaga, ChainData>();
            store(sagas);
            IHost host = builder.Build();
            await host.StartAsync();
            return new HostRun(host);
        }

        public async Task<string[]> StartManyAsync(int count)
        {
            string[] ids = new string[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = await Client.StartAsync(new ChainData());
            }

            return ids;
        }

        public async Task RunAsync(int count)
        {
            string[] ids = await StartManyAsync(count);
            foreach (string id in ids)
            {
                SagaSnapshot end = await Client.WaitForEndAsync(id);
                if (end.Status != SagaStatus.Completed)
                {
                    throw new InvalidOperationException($"Saga {id} ended {end.Status}: {end.Error}");
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }
}
