namespace BuildingBlocks.ConsistentHashing;

/// <summary>The built-in key hash functions.</summary>
public enum KeyHashAlgorithm
{
    /// <summary>XXH3 64-bit, seed 0 (the default): the fastest, with excellent distribution.</summary>
    XxHash3 = 0,

    /// <summary>XXH64, seed 0: for interoperability with systems that already use XXH64.</summary>
    XxHash64 = 1,

    /// <summary>MurmurHash3 x64 128-bit, seed 0, first 64 bits (as used by Cassandra's Murmur3Partitioner, byte order aside).</summary>
    Murmur3 = 2,
}
