namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Turns a key's bytes into a 64-bit hash. The same bytes must give the same hash in every process,
/// on every machine and in every version, because ring positions are derived from it.
/// </summary>
/// <remarks>Implementations must be thread-safe and should not allocate.</remarks>
public interface IKeyHasher
{
    /// <summary>A short, stable name used in diagnostics and golden vectors (for example <c>xxhash3</c>).</summary>
    string Name { get; }

    /// <summary>Hashes <paramref name="key"/> to 64 bits.</summary>
    /// <param name="key">The key's bytes; may be empty.</param>
    /// <returns>The 64-bit hash.</returns>
    ulong Hash(ReadOnlySpan<byte> key);
}
