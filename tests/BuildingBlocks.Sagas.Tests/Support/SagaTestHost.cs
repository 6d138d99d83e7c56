using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>Configures a <see cref="SagaTestHost"/>: scripted definitions, a shared store or clock, options, services.</summary>
public sealed class SagaTestHostBuilder
{
    private readonly List<Action<ISagasBuilder>> _sagas = [];
    private readonly List<Action<SagaOptions>> _options = [];
    private readonly List<Action<IServiceCollection>> _services = [];
    private int _slot;

    /// <summary>The recording service the steps call; pass one instance to several hosts to see every call.</summary>
    public Ledger Ledger { get; set; } = new();

    /// <summary>A store to share between hosts (registered as the singleton <see cref="ISagaStore"/>); null: each host its own.</summary>
    public ISagaStore? Store { get; set; }

    /// <summary>The clock registered as <see cref="TimeProvider"/> (step delays, timeouts, deadlines, renewals; the host's in-memory store).</summary>
    public TimeProvider? Time { get; set; }

    /// <summary>Whether <see cref="SagaTestHost.StartAsync(Action{SagaTestHostBuilder})"/> starts the host.</summary>
    public bool Start { get; set; } = true;

    /// <summary>Adds a scripted definition of <see cref="TestData"/>.</summary>
    public SagaTestHostBuilder Saga(string name, Action<SagaBuilder<TestData>> define) => Saga<TestData>(name, 1, define);

    /// <summary>Adds a scripted definition of <see cref="TestData"/> with a version.</summary>
    public SagaTestHostBuilder Saga(string name, int version, Action<SagaBuilder<TestData>> define) => Saga<TestData>(name, version, define);

    /// <summary>Adds a scripted definition (up to five per host).</summary>
    public SagaTestHostBuilder Saga<TData>(string name, int version, Action<SagaBuilder<TData>> define)
        where TData : class
    {
        switch (_slot++)
        {
            case 0: Add<TData, Slot0>(name, version, define); break;
            case 1: Add<TData, Slot1>(name, version, define); break;
            case 2: Add<TData, Slot2>(name, version, define); break;
            case 3: Add<TData, Slot3>(name, version, define); break;
            case 4: Add<TData, Slot4>(name, version, define); break;
            default: throw new InvalidOperationException("At most five scripted sagas per host.");
        }

        return this;
    }

    /// <summary>Registers a definition type the usual way.</summary>
    public SagaTestHostBuilder Definition<TSaga, TData>()
        where TSaga : SagaDefinition<TData>
        where TData : class
    {
        _sagas.Add(sagas => sagas.AddSaga<TSaga, TData>());
        return this;
    }

    /// <summary>Runs the host on <paramref name="clock"/> with leases long enough that advancing it never expires them.</summary>
    public SagaTestHostBuilder With(Microsoft.Extensions.Time.Testing.FakeTimeProvider clock)
    {
        Time = clock;
        return Options(Clock.LongLeases);
    }

    public SagaTestHostBuilder Options(Action<SagaOptions> configure)
    {
        _options.Add(configure);
        return this;
    }

    public SagaTestHostBuilder Services(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    internal IHost Build()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFakeLogging();
        builder.Services.AddMetrics();
        if (Time is not null)
        {
            builder.Services.AddSingleton(Time);
        }

        if (Store is not null)
        {
            builder.Services.AddSingleton(Store);
        }

        builder.Services.AddSingleton(Ledger);
        foreach (Action<IServiceCollection> configure in _services)
        {
            configure(builder.Services);
        }

        ISagasBuilder sagas = builder.Services.AddSagas(o =>
        {
            o.CoordinatorId = $"test-coordinator-{Interlocked.Increment(ref s_coordinators)}";
            o.LeaseDuration = TimeSpan.FromSeconds(6);
            o.LeaseRenewalInterval = TimeSpan.FromSeconds(1);
            o.PollInterval = TimeSpan.FromMilliseconds(50);
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            o.DefaultCompensationRetry = new SagaRetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, Jitter = 0 };
            foreach (Action<SagaOptions> configure in _options)
            {
                configure(o);
            }
        });
        foreach (Action<ISagasBuilder> add in _sagas)
        {
            add(sagas);
        }

        return builder.Build();
    }

    private static int s_coordinators;

    private void Add<TData, TSlot>(string name, int version, Action<SagaBuilder<TData>> define)
        where TData : class
    {
        _services.Add(services => services.AddSingleton(new SagaScript<TData, TSlot>(name, version, define)));
        _sagas.Add(sagas => sagas.AddSaga<ScriptedSaga<TData, TSlot>, TData>());
    }
}

/// <summary>A real generic host running sagas over the in-memory store (or a shared one), with fast timings.</summary>
public sealed class SagaTestHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _started;
    private bool _stopped;

    private SagaTestHost(IHost host, Ledger ledger)
    {
        _host = host;
        Ledger = ledger;
    }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public IServiceProvider Services => _host.Services;

    public Ledger Ledger { get; }

    public ISagaClient Client => Services.GetRequiredService<ISagaClient>();

    public ISagaOperator Operator => Services.GetRequiredService<ISagaOperator>();

    public ISagaStore Store => Services.GetRequiredService<ISagaStore>();

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    public string CoordinatorId => Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SagaOptions>>().Value.CoordinatorId;

    /// <summary>Builds and (unless told otherwise) starts a host.</summary>
    public static async Task<SagaTestHost> StartAsync(Action<SagaTestHostBuilder> configure)
    {
        SagaTestHostBuilder builder = new();
        configure(builder);
        SagaTestHost host = new(builder.Build(), builder.Ledger);
        if (builder.Start)
        {
            await host.StartAsync();
        }

        return host;
    }

    public async Task StartAsync()
    {
        await _host.StartAsync(Ct);
        _started = true;
    }

    public async Task StopAsync()
    {
        _stopped = true;
        await _host.StopAsync(CancellationToken.None);
    }

    /// <summary>Starts a saga of <see cref="TestData"/>.</summary>
    public async Task<string> StartSagaAsync(TestData? data = null, string? sagaId = null, string? sagaName = null) =>
        await Client.StartAsync(data ?? new TestData { Value = "v" }, new SagaStartOptions { SagaId = sagaId, SagaName = sagaName }, Ct);

    /// <summary>Polls the store (real time, bounded) until the saga finished or parked.</summary>
    public Task<SagaSnapshot> WaitForEndAsync(string sagaId, double seconds = 10) =>
        WaitForAsync(sagaId, s => s.IsFinished || s.IsParked, "finished or parked", seconds);

    public Task<SagaSnapshot> WaitForStatusAsync(string sagaId, SagaStatus status, double seconds = 10) =>
        WaitForAsync(sagaId, s => s.Status == status, status.ToString(), seconds);

    public async Task<SagaSnapshot> WaitForAsync(string sagaId, Func<SagaSnapshot, bool> condition, string what, double seconds = 10)
    {
        SagaSnapshot? last = null;
        await Eventually.HoldsAsync(
            async () =>
            {
                last = await Client.GetAsync(sagaId, Ct);
                return last is not null && condition(last);
            },
            () => $"saga {sagaId} is {what} (last seen: {last?.Status.ToString() ?? "missing"}, error: {last?.Error})",
            seconds);
        return last!;
    }

    public async Task<IReadOnlyList<SagaEvent>> HistoryAsync(string sagaId) => await Client.GetHistoryAsync(sagaId, Ct);

    /// <summary>The history as "Kind step#attempt" lines, for readable order assertions.</summary>
    public async Task<IReadOnlyList<string>> HistoryLinesAsync(string sagaId) =>
        [.. (await HistoryAsync(sagaId)).Select(e => e.Step is null ? e.Kind.ToString() : $"{e.Kind} {e.Step}#{e.Attempt}")];

    public async ValueTask DisposeAsync()
    {
        if (_started && !_stopped)
        {
            await _host.StopAsync(CancellationToken.None);
        }

        _host.Dispose();
    }
}
