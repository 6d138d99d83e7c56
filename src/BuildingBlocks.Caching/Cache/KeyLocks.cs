namespace BuildingBlocks.Caching;

/// <summary>
/// Striped async locks: write-through and write-around writes to one key run one at a time, so the cache ends with
/// the value the store ends with. Different keys rarely share a stripe.
/// </summary>
internal sealed class KeyLocks<TKey>
    where TKey : notnull
{
    private readonly SemaphoreSlim[] _stripes;
    private readonly IEqualityComparer<TKey> _comparer;

    public KeyLocks(IEqualityComparer<TKey> comparer, int stripes = 256)
    {
        _comparer = comparer;
        _stripes = new SemaphoreSlim[stripes];
        for (int i = 0; i < stripes; i++)
        {
            _stripes[i] = new SemaphoreSlim(1, 1);
        }
    }

    public SemaphoreSlim For(TKey key) => _stripes[(int)((uint)_comparer.GetHashCode(key) % (uint)_stripes.Length)];
}
