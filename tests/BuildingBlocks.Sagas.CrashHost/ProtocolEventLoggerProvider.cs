using System.Globalization;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>
/// Echoes a few documented saga log events to stdout as protocol lines the tests read: <c>LEASE LOST &lt;sagaId&gt;
/// &lt;token&gt;</c> (4005), <c>SUSPENDED &lt;sagaId&gt;</c> (4004), <c>CHECKPOINT FAILED &lt;sagaId&gt;</c> (4007) and
/// <c>STORE CALL FAILED &lt;operation&gt;</c> (4006). The logs themselves still go to stderr.
/// </summary>
internal sealed class ProtocolEventLoggerProvider : ILoggerProvider
{
    private const string Category = "BuildingBlocks.Sagas";

    public ILogger CreateLogger(string categoryName) =>
        categoryName == Category ? ProtocolLogger.Instance : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class ProtocolLogger : ILogger
    {
        public static readonly ProtocolLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string? line = eventId.Id switch
            {
                4004 => $"SUSPENDED {Value(state, "SagaId")}",
                4005 => $"LEASE LOST {Value(state, "SagaId")} {Value(state, "LeaseToken")}",
                4006 => $"STORE CALL FAILED {Value(state, "Operation")}: {exception?.GetType().Name} {exception?.Message}",
                4007 => $"CHECKPOINT FAILED {Value(state, "SagaId")}: {exception?.GetType().Name} {exception?.Message}",
                _ => null,
            };
            if (line is not null)
            {
                Console.WriteLine(line.ReplaceLineEndings(" "));
            }
        }

        private static string Value<TState>(TState state, string name) =>
            state is IReadOnlyList<KeyValuePair<string, object?>> values
                ? Convert.ToString(values.FirstOrDefault(v => v.Key == name).Value, CultureInfo.InvariantCulture) ?? "?"
                : "?";
    }
}
