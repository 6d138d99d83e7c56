namespace BuildingBlocks.Caching;

/// <summary>
/// A write-back write was refused because the buffer of writes waiting for the store is full and
/// <see cref="WriteBackOptions.WhenFull"/> is <see cref="BackpressureMode.Fail"/>. Nothing was accepted.
/// </summary>
public sealed class WriteBackBufferFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WriteBackBufferFullException(string message)
        : base(message)
    {
    }
}
