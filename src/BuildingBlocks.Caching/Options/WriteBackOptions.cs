namespace BuildingBlocks.Caching;

/// <summary>How the write-back flusher batches, retries and gives up.</summary>
public sealed class WriteBackOptions
{
    /// <summary>
    /// How long a write waits in the buffer before the flusher writes it: repeated writes to one key within this
    /// window become one store write. It is also the loss window without a journal. Default 1 second.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most entries in one store call. Default 500.</summary>
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>The most distinct keys waiting for the store; writes to a key already waiting always fit. Default 100,000.</summary>
    public int BufferCapacity { get; set; } = 100_000;

    /// <summary>What a new write does when the buffer is full. Default <see cref="BackpressureMode.Wait"/>.</summary>
    public BackpressureMode WhenFull { get; set; } = BackpressureMode.Wait;

    /// <summary>Store attempts per write before it moves to the dead-letter list. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The delay before the first retry; it doubles per attempt, with jitter. Default 200 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between retries. Default 30 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one store call may take before it counts as failed. Default 30 seconds.</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a graceful shutdown waits for the buffer to drain. Default 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The durable journal: when set, a write is journaled before it is acknowledged and replayed after a crash.
    /// With DI, a registered <see cref="IWriteBackJournal"/> (for example <c>UseSqliteJournal</c>) is used.
    /// </summary>
    public IWriteBackJournal? Journal { get; set; }
}
