using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Caching.Sqlite;

/// <summary>Log messages; event ids 3200–3299 are stable and listed in docs/diagnostics.md.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3200, EventName = "JournalOpened", Level = LogLevel.Information,
        Message = "Write-back journal '{Path}' opened: schema version {SchemaVersion}, created now: {Created}.")]
    public static partial void JournalOpened(ILogger logger, string path, int schemaVersion, bool created);

    [LoggerMessage(EventId = 3201, EventName = "JournalOpenFailed", Level = LogLevel.Error,
        Message = "Write-back journal '{Path}' could not be opened; the {Count} operations waiting for it failed and the next ones try again.")]
    public static partial void JournalOpenFailed(ILogger logger, Exception exception, string path, int count);

    [LoggerMessage(EventId = 3202, EventName = "JournalTransactionFailed", Level = LogLevel.Error,
        Message = "Write-back journal '{Path}': a transaction of {Count} operations failed and was rolled back; none of them was journaled and their callers got the error.")]
    public static partial void JournalTransactionFailed(ILogger logger, Exception exception, string path, int count);

    [LoggerMessage(EventId = 3203, EventName = "JournalOperationRefused", Level = LogLevel.Warning,
        Message = "Write-back journal '{Path}': SQLite refused one {Operation} of cache '{Cache}'; its caller got the error and the other operations of the transaction were journaled.")]
    public static partial void JournalOperationRefused(ILogger logger, Exception exception, string path, string operation, string cache);

    [LoggerMessage(EventId = 3204, EventName = "JournalClosed", Level = LogLevel.Debug,
        Message = "Write-back journal '{Path}' closed after {Transactions} transactions of {Operations} operations.")]
    public static partial void JournalClosed(ILogger logger, string path, long transactions, long operations);
}
