namespace BuildingBlocks.Caching;

/// <summary>What a write-back write does when the buffer of writes waiting for the store is full.</summary>
public enum BackpressureMode
{
    /// <summary>Wait (asynchronously, honouring the cancellation token) until the flusher makes room.</summary>
    Wait = 0,

    /// <summary>Throw <see cref="WriteBackBufferFullException"/> at once; the write is not accepted.</summary>
    Fail = 1,
}
