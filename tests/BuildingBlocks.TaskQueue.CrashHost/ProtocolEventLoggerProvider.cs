using Microsoft.Extensions.Logging;

namespace BuildingBlocks.TaskQueue.CrashHost;

/// <summary>
/// Echoes a few documented log events to stdout as protocol lines, so a test can wait for them without parsing logs:
/// <c>LISTENING</c> (event 2100: the PostgreSQL listener has a live LISTEN connection) and <c>LISTENER LOST</c>
/// (event 2101: it lost it and reconnects with backoff). The logs themselves still go to stderr.
/// </summary>
internal sealed class ProtocolEventLoggerProvider : ILoggerProvider
{
    private const string ListenerCategory = "BuildingBlocks.TaskQueue.PostgreSql.PostgreSqlTaskListener";

    private static readonly Dictionary<int, string> s_lines = new()
    {
        [2100] = "LISTENING",
        [2101] = "LISTENER LOST",
    };

    public ILogger CreateLogger(string categoryName) =>
        categoryName == ListenerCategory ? ProtocolLogger.Instance : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class ProtocolLogger : ILogger
    {
        public static readonly ProtocolLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (s_lines.TryGetValue(eventId.Id, out string? line))
            {
                Console.WriteLine(line);
            }
        }
    }
}
