using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Caching;

/// <summary>Log messages; event ids are stable and listed in docs/diagnostics.md.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, EventName = "LoadFailed", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': loading key '{Key}' from the backing store failed; nothing was cached and the callers got the error.")]
    public static partial void LoadFailed(ILogger logger, Exception exception, string cache, string key);

    [LoggerMessage(EventId = 3001, EventName = "DistributedCacheFailed", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': L2 '{Operation}' failed; L2 is skipped for {BreakDuration} and the cache carries on with L1 and the store.")]
    public static partial void DistributedCacheFailed(ILogger logger, Exception exception, string cache, string operation, TimeSpan breakDuration);

    [LoggerMessage(EventId = 3002, EventName = "DistributedValueTooLarge", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': the value of key '{Key}' is {Bytes} bytes, over MaxDistributedValueBytes ({MaxBytes}); it is kept in L1 and the store but not in L2.")]
    public static partial void DistributedValueTooLarge(ILogger logger, string cache, string key, int bytes, int maxBytes);

    [LoggerMessage(EventId = 3003, EventName = "DistributedValueUnreadable", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': the L2 entry of key '{Key}' could not be read; it was removed and the value is loaded from the store.")]
    public static partial void DistributedValueUnreadable(ILogger logger, Exception exception, string cache, string key);

    [LoggerMessage(EventId = 3004, EventName = "BackplanePublishFailed", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': publishing an invalidation failed; other nodes will notice the gap in sequence numbers when the backplane is back and revalidate.")]
    public static partial void BackplanePublishFailed(ILogger logger, Exception exception, string cache);

    [LoggerMessage(EventId = 3005, EventName = "Revalidating", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': backplane messages may have been missed ({Reason}); L1 was dropped so no stale entry is served.")]
    public static partial void Revalidating(ILogger logger, string cache, string reason);

    [LoggerMessage(EventId = 3006, EventName = "FlushFailed", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': writing {Count} write-back entries to the store failed; they are retried with backoff.")]
    public static partial void FlushFailed(ILogger logger, Exception exception, string cache, int count);

    [LoggerMessage(EventId = 3007, EventName = "WriteDeadLettered", Level = LogLevel.Error,
        Message = "Cache '{Cache}': the store rejected the write-back write of key '{Key}' {Attempts} times; it moved to the dead-letter list (it blocks no other write) and the key was dropped from L1.")]
    public static partial void WriteDeadLettered(ILogger logger, Exception exception, string cache, string key, int attempts);

    [LoggerMessage(EventId = 3008, EventName = "ShutdownUnflushed", Level = LogLevel.Error,
        Message = "Cache '{Cache}' stopped with {Count} write-back writes not in the store after {Timeout}; journaled: {Journaled} (a journal replays them at the next start; without one they are lost).")]
    public static partial void ShutdownUnflushed(ILogger logger, string cache, int count, TimeSpan timeout, bool journaled);

    [LoggerMessage(EventId = 3009, EventName = "JournalReplayed", Level = LogLevel.Information,
        Message = "Cache '{Cache}': {Count} write-back writes from the journal are queued for the store again.")]
    public static partial void JournalReplayed(ILogger logger, string cache, int count);

    [LoggerMessage(EventId = 3010, EventName = "SerializationFailed", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': key '{Key}' or its value could not be serialized or read back (L2 entries are skipped and kept in L1 and the store; a journal entry that cannot be read stays in the journal and is not replayed).")]
    public static partial void SerializationFailed(ILogger logger, Exception exception, string cache, string key);

    [LoggerMessage(EventId = 3011, EventName = "StoreWriteFailed", Level = LogLevel.Warning,
        Message = "Cache '{Cache}': the {Strategy} write of key '{Key}' failed in the store; the key was dropped from the cache and the caller got the error.")]
    public static partial void StoreWriteFailed(ILogger logger, Exception exception, string cache, string key, string strategy);
}
