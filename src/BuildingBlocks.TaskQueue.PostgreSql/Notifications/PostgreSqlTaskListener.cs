using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BuildingBlocks.TaskQueue.PostgreSql;

/// <summary>
/// Prepares the schema at host start, then keeps one connection listening on the store's channel and wakes this
/// process's workers (through the queue's <see cref="TaskNotifier"/>) whenever any process commits an enqueue. A lost
/// connection is reopened with backoff; meanwhile, and right after every (re)connect, the workers are woken to look
/// for themselves, so a notification missed while away only delays pickup until then.
/// </summary>
internal sealed partial class PostgreSqlTaskListener(
    string name,
    PostgreSqlTaskStore store,
    TaskNotifier notifier,
    TimeSpan reconnectDelay,
    TimeProvider timeProvider,
    ILogger<PostgreSqlTaskListener> logger) : BackgroundService
{
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);

    private int _connections;
    private readonly TimeSpan _firstDelay = reconnectDelay;
    private TimeSpan _delay = reconnectDelay;

    // A quiet connection is checked this often, so a dead server is noticed even when nothing is enqueued.
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    /// <summary>Whether the listener has a live LISTEN connection (tests and diagnostics).</summary>
    public bool IsListening { get; private set; }

    /// <summary>How many times a LISTEN connection was established (the first one and every reconnection).</summary>
    public int Connections => Volatile.Read(ref _connections);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Fail at start-up on a wrong connection string or schema version, not at the first task.
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                IsListening = false;
                notifier.NotifyAll();
                ListenerLost(logger, e, name, store.Channel, _delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(_delay, timeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                _delay = _delay * 2 < MaxReconnectDelay ? _delay * 2 : MaxReconnectDelay;
            }
        }

        IsListening = false;
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        using NpgsqlConnection connection = await store.DataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
        connection.Notification += (_, e) => notifier.Notify(e.Payload);
        using (NpgsqlCommand listen = new($"LISTEN \"{store.Channel}\";", connection))
        {
            _ = await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
        }

        IsListening = true;
        _ = Interlocked.Increment(ref _connections);

        // Back on line: the next outage starts again from the configured delay.
        _delay = _firstDelay;
        Listening(logger, name, store.Channel);

        // Tasks committed while nobody listened are found by a look now.
        notifier.NotifyAll();
        while (true)
        {
            if (!await connection.WaitAsync(KeepAliveInterval, stoppingToken).ConfigureAwait(false))
            {
                using NpgsqlCommand ping = new("SELECT 1;", connection);
                _ = await ping.ExecuteScalarAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Task queue '{Queue}' listens for new tasks on PostgreSQL channel '{Channel}'")]
    private static partial void Listening(ILogger logger, string queue, string channel);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Task queue '{Queue}' lost its LISTEN connection on channel '{Channel}'; workers poll meanwhile; reconnecting in {DelayMs} ms")]
    private static partial void ListenerLost(ILogger logger, Exception exception, string queue, string channel, double delayMs);
}
