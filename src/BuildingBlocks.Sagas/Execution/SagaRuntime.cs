using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Sagas;

/// <summary>What every saga execution of one coordinator shares: the store, options, clock, services and telemetry.</summary>
internal sealed class SagaRuntime
{
    private readonly ConcurrentDictionary<Type, object> _serializers = new();

    public SagaRuntime(ISagaStore store, SagaOptions options, IServiceScopeFactory scopeFactory, TimeProvider timeProvider, SagaTelemetry telemetry, ILogger logger)
    {
        Store = store;
        Options = options;
        ScopeFactory = scopeFactory;
        Time = timeProvider;
        Telemetry = telemetry;
        Logger = logger;
        Json = SagaJson.ReadOnly(options.JsonOptions);
    }

    public ISagaStore Store { get; }

    public SagaOptions Options { get; }

    public IServiceScopeFactory ScopeFactory { get; }

    public TimeProvider Time { get; }

    public SagaTelemetry Telemetry { get; }

    public ILogger Logger { get; }

    public JsonSerializerOptions Json { get; }

    public string CoordinatorId => Options.CoordinatorId;

    public SagaDataSerializer<TData> Serializer<TData>()
        where TData : class =>
        (SagaDataSerializer<TData>)_serializers.GetOrAdd(typeof(TData), _ => new SagaDataSerializer<TData>(Json, Options.MaxDataBytes));
}
