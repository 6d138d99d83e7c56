namespace BuildingBlocks.Caching;

/// <summary>The backing store failed or did not answer in time; the message names the cache, the key and the call.</summary>
public sealed class CacheStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CacheStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
