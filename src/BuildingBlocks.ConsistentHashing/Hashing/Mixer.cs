namespace BuildingBlocks.ConsistentHashing;

/// <summary>64-bit finalizers shared by the algorithms that combine or derive hashes.</summary>
internal static class Mixer
{
    /// <summary>MurmurHash3's fmix64: a bijective avalanche of all 64 bits.</summary>
    public static ulong Fmix64(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }
}
