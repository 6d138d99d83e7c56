namespace BuildingBlocks.Caching;

/// <summary>A value or key could not be serialized for L2, the backplane or the journal; nothing was accepted.</summary>
public sealed class CacheSerializationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CacheSerializationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
