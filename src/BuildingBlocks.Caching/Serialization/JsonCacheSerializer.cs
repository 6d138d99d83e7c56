using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BuildingBlocks.Caching;

/// <summary>
/// The default serializer: System.Text.Json with the given options (pass options whose TypeInfoResolver is a source
/// generated context for trimming and speed). Never reads type names from the payload.
/// </summary>
/// <typeparam name="T">The serialized type.</typeparam>
public sealed class JsonCacheSerializer<T> : ICacheSerializer<T>
{
    private readonly JsonTypeInfo<T> _typeInfo;

    /// <summary>Creates a serializer over <paramref name="options"/> (web defaults when null).</summary>
    public JsonCacheSerializer(JsonSerializerOptions? options = null)
    {
        _typeInfo = CachingJson.TypeInfo<T>(CachingJson.ReadOnly(options));
    }

    /// <inheritdoc />
    public byte[] Serialize(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _typeInfo);

    /// <inheritdoc />
    public T Deserialize(ReadOnlySpan<byte> bytes) =>
        JsonSerializer.Deserialize(bytes, _typeInfo) ?? throw new JsonException($"The bytes hold JSON null, not a {typeof(T).Name}.");
}
