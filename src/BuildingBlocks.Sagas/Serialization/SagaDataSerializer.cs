using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BuildingBlocks.Sagas;

/// <summary>Saves and reads one saga data type as JSON, with the size limit and errors that say what to fix.</summary>
internal sealed class SagaDataSerializer<TData>
    where TData : class
{
    private readonly JsonTypeInfo<TData> _typeInfo;
    private readonly int _maxBytes;

    public SagaDataSerializer(JsonSerializerOptions options, int maxBytes)
    {
        _maxBytes = maxBytes;
        try
        {
            _typeInfo = (JsonTypeInfo<TData>)options.GetTypeInfo(typeof(TData));
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException)
        {
            throw new SagaDataException(
                $"No JSON contract for saga data {typeof(TData).FullName}: set SagaOptions.JsonOptions to options whose TypeInfoResolver (for example a source-generated JsonSerializerContext) includes it.",
                exception);
        }
    }

    public string Serialize(TData data)
    {
        string json;
        try
        {
            json = JsonSerializer.Serialize(data, _typeInfo);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Any error: the serializer's own, or one thrown by a property getter of the data.
            throw new SagaDataException($"Saga data {typeof(TData).Name} cannot be serialized to JSON: {exception.GetType().Name}: {exception.Message}", exception);
        }

        int bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > _maxBytes)
        {
            throw new SagaDataException($"Saga data {typeof(TData).Name} is {bytes} bytes as JSON, more than SagaOptions.MaxDataBytes ({_maxBytes}): keep large content elsewhere and store its id.");
        }

        return json;
    }

    public TData Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, _typeInfo)
                ?? throw new SagaDataException($"Saga data {typeof(TData).Name} reads back as null.");
        }
        catch (Exception exception) when (exception is not SagaDataException and not OperationCanceledException)
        {
            // Any error: the serializer's own, or one thrown by a constructor or setter of the data.
            throw new SagaDataException($"Saga data {typeof(TData).Name} cannot be read back from JSON: {exception.GetType().Name}: {exception.Message}", exception);
        }
    }

    /// <summary>Serializes and reads back, so data that would break the saga on resume is refused at start.</summary>
    public string SerializeChecked(TData data)
    {
        string json = Serialize(data);
        _ = Deserialize(json);
        return json;
    }
}
