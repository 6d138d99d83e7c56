namespace BuildingBlocks.Caching;

/// <summary>Turns values into bytes for L2 and the write-back journal, and back.</summary>
/// <typeparam name="T">The serialized type.</typeparam>
public interface ICacheSerializer<T>
{
    /// <summary>Serializes <paramref name="value"/>.</summary>
    byte[] Serialize(T value);

    /// <summary>Deserializes what <see cref="Serialize"/> wrote.</summary>
    T Deserialize(ReadOnlySpan<byte> bytes);
}
