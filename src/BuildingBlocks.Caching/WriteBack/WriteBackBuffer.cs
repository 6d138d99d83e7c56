using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Caching;

/// <summary>
/// The write-back buffer and its flusher. Writes wait here (one entry per key: a later write replaces the earlier
/// one, which is a store write saved) until they are <see cref="WriteBackOptions.FlushInterval"/> old, then a single
/// flusher loop writes them in batches of up to <see cref="WriteBackOptions.MaxBatchSize"/>. A batch that fails is
/// retried entry by entry, so an entry the store keeps rejecting is found, retried with backoff and finally moved to
/// the dead-letter list without holding back the rest.
/// </summary>
internal sealed class WriteBackBuffer<TKey, TValue> : IAsyncDisposable
    where TKey : notnull
{
    /// <summary>Consecutive failures of entries written alone after which the store is treated as down for the round.</summary>
    private const int StoreDownAfterFailures = 3;

    private readonly ConcurrentDictionary<TKey, PendingWrite<TKey, TValue>> _pending;
    private readonly ConcurrentQueue<TKey> _queue = new();
    private readonly ConcurrentDictionary<TKey, WriteBackDeadLetter<TKey, TValue>> _deadLetters;
    private readonly ConcurrentDictionary<TKey, byte[]?> _deadLetterJournalKeys;
    private readonly List<TKey> _retry = [];
    private readonly IBackingStore<TKey, TValue> _store;
    private readonly WriteBackOptions _options;
    private readonly CacheClock _clock;
    private readonly string _cacheName;
    private readonly CacheTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly Action<TKey> _onDeadLettered;
    private readonly Func<IReadOnlyList<PendingWrite<TKey, TValue>>, ValueTask> _afterFlush;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _startGate = new();
    private TaskCompletionSource _wake = NewSignal();
    private TaskCompletionSource _roundDone = NewSignal();
    private TaskCompletionSource _space = NewSignal();
    private Task? _loop;
    private int _count;
    private int _forceRequests;
    private long _coalesced;
    private long _storeWrites;
    private long _flushFailures;
    private long _oldestRetryQueuedMs = long.MaxValue;
    private int _storeDownRounds;

    public WriteBackBuffer(
        IBackingStore<TKey, TValue> store,
        WriteBackOptions options,
        IEqualityComparer<TKey> comparer,
        CacheClock clock,
        string cacheName,
        CacheTelemetry telemetry,
        ILogger logger,
        Action<TKey> onDeadLettered,
        Func<IReadOnlyList<PendingWrite<TKey, TValue>>, ValueTask> afterFlush)
    {
        _store = store;
        _options = options;
        _clock = clock;
        _cacheName = cacheName;
        _telemetry = telemetry;
        _logger = logger;
        _onDeadLettered = onDeadLettered;
        _afterFlush = afterFlush;
        _pending = new ConcurrentDictionary<TKey, PendingWrite<TKey, TValue>>(comparer);
        _deadLetters = new ConcurrentDictionary<TKey, WriteBackDeadLetter<TKey, TValue>>(comparer);
        _deadLetterJournalKeys = new ConcurrentDictionary<TKey, byte[]?>(comparer);
    }

    public IWriteBackJournal? Journal => _options.Journal;

    public int Count => Volatile.Read(ref _count);

    public long Coalesced => Interlocked.Read(ref _coalesced);

    public long StoreWrites => Interlocked.Read(ref _storeWrites);

    public long FlushFailures => Interlocked.Read(ref _flushFailures);

    public int DeadLetterCount => _deadLetters.Count;

    public TimeSpan Lag
    {
        get
        {
            long oldest = Volatile.Read(ref _oldestRetryQueuedMs);
            if (_queue.TryPeek(out TKey? head) && _pending.TryGetValue(head, out PendingWrite<TKey, TValue>? write))
            {
                oldest = Math.Min(oldest, write.FirstQueuedMs);
            }

            return oldest == long.MaxValue ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, _clock.NowMs - oldest));
        }
    }

    /// <summary>Read-your-writes: the newest write of the key still waiting for the store.</summary>
    public bool TryGetPending(TKey key, out PendingWrite<TKey, TValue> write) => _pending.TryGetValue(key, out write!);

    public bool IsPending(TKey key) => !_pending.IsEmpty && _pending.ContainsKey(key);

    /// <summary>
    /// Waits for room (or fails, per <see cref="WriteBackOptions.WhenFull"/>) before anything is journaled, so a
    /// refused write leaves no trace.
    /// </summary>
    public ValueTask ReserveAsync(TKey key, CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Cache '{_cacheName}' is stopped: its write-back flusher no longer runs, so a write-back write would never reach the store.");
        }

        if (Volatile.Read(ref _count) < _options.BufferCapacity || _pending.ContainsKey(key))
        {
            return ValueTask.CompletedTask;
        }

        if (_options.WhenFull == BackpressureMode.Fail)
        {
            throw new WriteBackBufferFullException(
                $"Cache '{_cacheName}': {Volatile.Read(ref _count)} keys are waiting for the store, the WriteBack.BufferCapacity of {_options.BufferCapacity}; " +
                "the write was not accepted. The store is slower than the writes or failing (see the flush failures); raise BufferCapacity or set WhenFull = Wait.");
        }

        return WaitForSpaceAsync(key, cancellationToken);
    }

    /// <summary>
    /// Adds or coalesces a write. Called after <see cref="ReserveAsync"/> and after journaling. Returns false when a
    /// newer write of the key is already waiting (this one is superseded, and counted as coalesced).
    /// </summary>
    public bool Accept(TKey key, TValue value, bool isDelete, long version, byte[]? journalKey)
    {
        while (true)
        {
            if (_pending.TryGetValue(key, out PendingWrite<TKey, TValue>? existing))
            {
                if (existing.Version > version)
                {
                    Interlocked.Increment(ref _coalesced);
                    _telemetry.Coalesced();
                    return false;
                }

                if (_pending.TryUpdate(key, existing.Coalesce(value, isDelete, version, journalKey), existing))
                {
                    Interlocked.Increment(ref _coalesced);
                    _telemetry.Coalesced();
                    return true;
                }

                continue;
            }

            var write = new PendingWrite<TKey, TValue>(key, value, isDelete, version, _clock.NowMs, journalKey);
            if (_pending.TryAdd(key, write))
            {
                int count = Interlocked.Increment(ref _count);
                _queue.Enqueue(key);
                EnsureStarted();
                // The first key wakes a flusher that sleeps with nothing to do; a half-full buffer makes it flush early.
                if (count == 1 || count >= _options.BufferCapacity / 2)
                {
                    Signal();
                }

                return true;
            }
        }
    }

    /// <summary>Waits until every key waiting at the call reached the store (or a newer write replaced it) or a dead letter.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        KeyValuePair<TKey, PendingWrite<TKey, TValue>>[] snapshot = _pending.ToArray();
        if (snapshot.Length == 0)
        {
            return;
        }

        if (_stopping.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Cache '{_cacheName}' is stopped with {snapshot.Length} write-back writes not in the store; they cannot be flushed any more.");
        }

        Interlocked.Increment(ref _forceRequests);
        try
        {
            while (true)
            {
                Task round = Volatile.Read(ref _roundDone).Task;
                if (snapshot.All(p => !_pending.TryGetValue(p.Key, out PendingWrite<TKey, TValue>? now) || now.Version > p.Value.Version))
                {
                    return;
                }

                EnsureStarted();
                Signal();
                await round.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _forceRequests);
        }
    }

    /// <summary>Puts writes read back from the journal in the buffer (no backpressure, no re-journaling).</summary>
    public bool Replay(TKey key, TValue value, bool isDelete, long version, byte[] journalKey) => Accept(key, value, isDelete, version, journalKey);

    public IReadOnlyList<WriteBackDeadLetter<TKey, TValue>> GetDeadLetters() => [.. _deadLetters.Values.OrderBy(d => d.DeadLetteredAt)];

    public int RetryDeadLetters()
    {
        int count = 0;
        foreach (KeyValuePair<TKey, WriteBackDeadLetter<TKey, TValue>> item in _deadLetters.ToArray())
        {
            if (_deadLetters.TryRemove(item.Key, out WriteBackDeadLetter<TKey, TValue>? letter))
            {
                _deadLetterJournalKeys.TryRemove(item.Key, out byte[]? journalKey);
                if (!_pending.ContainsKey(item.Key))
                {
                    _ = Accept(letter.Key, letter.Value!, letter.IsDelete, _clock.NextVersion(), journalKey);
                }

                count++;
            }
        }

        return count;
    }

    public async ValueTask<int> DiscardDeadLettersAsync(CancellationToken cancellationToken)
    {
        int count = 0;
        var journaled = new List<JournalKeyVersion>();
        foreach (TKey key in _deadLetters.Keys.ToArray())
        {
            if (_deadLetters.TryRemove(key, out _))
            {
                count++;
                if (_deadLetterJournalKeys.TryRemove(key, out byte[]? journalKey) && journalKey is not null)
                {
                    journaled.Add(new JournalKeyVersion(journalKey, long.MaxValue));
                }
            }
        }

        if (journaled.Count > 0 && Journal is { } journal)
        {
            await journal.RemoveAsync(_cacheName, journaled, cancellationToken).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>Graceful shutdown: writes everything it can within <see cref="WriteBackOptions.ShutdownTimeout"/>, then stops the loop.</summary>
    public async ValueTask<int> StopAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout, _clock.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            // Writes keep arriving until the host stops its callers: flush until the buffer is empty or time is up.
            while (Volatile.Read(ref _count) > 0)
            {
                await FlushAsync(linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Signal();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        int left = Volatile.Read(ref _count);
        if (left > 0)
        {
            Log.ShutdownUnflushed(_logger, _cacheName, left, _options.ShutdownTimeout, Journal is not null);
        }

        return left;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async ValueTask WaitForSpaceAsync(TKey key, CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _count) >= _options.BufferCapacity && !_pending.ContainsKey(key))
        {
            Task space = Volatile.Read(ref _space).Task;
            if (Volatile.Read(ref _count) < _options.BufferCapacity)
            {
                return;
            }

            EnsureStarted();
            Signal();
            await space.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void Signal() => Volatile.Read(ref _wake).TrySetResult();

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _loop) is not null || _stopping.IsCancellationRequested)
        {
            return;
        }

        lock (_startGate)
        {
            _loop ??= Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        long intervalMs = (long)_options.FlushInterval.TotalMilliseconds;
        while (true)
        {
            Interlocked.Exchange(ref _wake, NewSignal());
            bool stopping = _stopping.IsCancellationRequested;
            bool force = stopping || Volatile.Read(ref _forceRequests) > 0 || Volatile.Read(ref _count) >= _options.BufferCapacity / 2;
            long now = _clock.NowMs;

            List<PendingWrite<TKey, TValue>> batch = CollectBatch(now, force, intervalMs);
            List<PendingWrite<TKey, TValue>> isolated = CollectDueRetries(now);
            bool batchSucceeded = batch.Count > 0 && await WriteBatchAsync(batch).ConfigureAwait(false);
            if (isolated.Count > 0)
            {
                await WriteIsolatedAsync(isolated, batchSucceeded).ConfigureAwait(false);
            }

            UpdateOldestRetry();
            Interlocked.Exchange(ref _roundDone, NewSignal()).TrySetResult();
            Interlocked.Exchange(ref _space, NewSignal()).TrySetResult();

            if (batch.Count > 0 && !_queue.IsEmpty && (force || HeadIsDue(_clock.NowMs, intervalMs)))
            {
                continue;
            }

            if (stopping)
            {
                return;
            }

            TimeSpan delay = NextDelay(_clock.NowMs, intervalMs);
            if (delay == TimeSpan.Zero)
            {
                continue;
            }

            // The delay gets its own token, canceled after every wait, so idle rounds leave no timers behind.
            using var delayCanceled = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            Task delayed = Task.Delay(delay, _clock.Time, delayCanceled.Token);
            await Task.WhenAny(Volatile.Read(ref _wake).Task, delayed).ConfigureAwait(false);
            await delayCanceled.CancelAsync().ConfigureAwait(false);
        }
    }

    private bool HeadIsDue(long now, long intervalMs) =>
        _queue.TryPeek(out TKey? head) && (!_pending.TryGetValue(head, out PendingWrite<TKey, TValue>? write) || now - write.FirstQueuedMs >= intervalMs);

    private TimeSpan NextDelay(long now, long intervalMs)
    {
        long next = long.MaxValue;
        if (_queue.TryPeek(out TKey? head))
        {
            next = _pending.TryGetValue(head, out PendingWrite<TKey, TValue>? write) ? write.FirstQueuedMs + intervalMs : now;
        }

        foreach (TKey key in _retry)
        {
            if (_pending.TryGetValue(key, out PendingWrite<TKey, TValue>? write))
            {
                next = Math.Min(next, write.NextAttemptMs);
            }
        }

        if (next == long.MaxValue)
        {
            return Timeout.InfiniteTimeSpan;
        }

        return next <= now ? TimeSpan.Zero : TimeSpan.FromMilliseconds(next - now);
    }

    private List<PendingWrite<TKey, TValue>> CollectBatch(long now, bool force, long intervalMs)
    {
        var batch = new List<PendingWrite<TKey, TValue>>();
        while (batch.Count < _options.MaxBatchSize && _queue.TryPeek(out TKey? key))
        {
            if (!_pending.TryGetValue(key, out PendingWrite<TKey, TValue>? write))
            {
                _queue.TryDequeue(out _);
                continue;
            }

            if (!force && now - write.FirstQueuedMs < intervalMs)
            {
                break;
            }

            _queue.TryDequeue(out _);
            if (write.Isolated)
            {
                _retry.Add(key);
            }
            else
            {
                batch.Add(write);
            }
        }

        return batch;
    }

    private List<PendingWrite<TKey, TValue>> CollectDueRetries(long now)
    {
        var due = new List<PendingWrite<TKey, TValue>>();
        for (int i = _retry.Count - 1; i >= 0; i--)
        {
            if (!_pending.TryGetValue(_retry[i], out PendingWrite<TKey, TValue>? write))
            {
                _retry.RemoveAt(i);
                continue;
            }

            if (write.NextAttemptMs <= now)
            {
                due.Add(write);
                _retry.RemoveAt(i);
            }
        }

        due.Reverse();
        return due;
    }

    private async Task<bool> WriteBatchAsync(List<PendingWrite<TKey, TValue>> batch)
    {
        try
        {
            await WriteToStoreAsync(batch).ConfigureAwait(false);
            await FlushedAsync(batch).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception)
        {
            Interlocked.Increment(ref _flushFailures);
            _telemetry.FlushFailed();
            Log.FlushFailed(_logger, exception, _cacheName, batch.Count);

            // Nobody knows which entry broke the batch: each is written alone from now on, after the first backoff.
            // A batch failure does not count as an attempt of any one entry.
            long retryAt = _clock.NowMs + (long)_options.RetryBaseDelay.TotalMilliseconds;
            foreach (PendingWrite<TKey, TValue> write in batch)
            {
                Retry(write, counts: false, retryAt, exception);
            }

            return false;
        }
    }

    /// <summary>
    /// Writes entries alone. A failure counts as an attempt of the entry only when the store is up: it accepted another
    /// write in the same round, or it answers a load of the failed key. That tells a rejected entry from a store that
    /// is down, so an outage spends nobody's attempts (its entries back off together, longer each round, and are
    /// probed by at most a few writes).
    /// </summary>
    private async Task WriteIsolatedAsync(List<PendingWrite<TKey, TValue>> writes, bool batchSucceeded)
    {
        bool storeAcceptedSomething = batchSucceeded;
        int consecutiveFailures = 0;
        var failures = new List<(PendingWrite<TKey, TValue> Write, Exception Error)>();
        var skipped = new List<PendingWrite<TKey, TValue>>();
        foreach (PendingWrite<TKey, TValue> write in writes)
        {
            if (consecutiveFailures >= StoreDownAfterFailures && !storeAcceptedSomething)
            {
                skipped.Add(write);
                continue;
            }

            try
            {
                await WriteToStoreAsync([write]).ConfigureAwait(false);
                await FlushedAsync([write]).ConfigureAwait(false);
                consecutiveFailures = 0;
                storeAcceptedSomething = true;
            }
            catch (Exception exception)
            {
                consecutiveFailures++;
                Interlocked.Increment(ref _flushFailures);
                _telemetry.FlushFailed();
                failures.Add((write, exception));
            }
        }

        if (!storeAcceptedSomething && failures.Count > 0)
        {
            // Only failures: either the store is down or these entries are all rejected. A load answers which.
            storeAcceptedSomething = await StoreAnswersAsync(failures[0].Write.Key).ConfigureAwait(false);
        }

        if (storeAcceptedSomething)
        {
            _storeDownRounds = 0;
            foreach ((PendingWrite<TKey, TValue> write, Exception error) in failures)
            {
                if (write.Attempts + 1 >= _options.MaxAttempts)
                {
                    DeadLetter(write, error);
                }
                else
                {
                    Log.FlushFailed(_logger, error, _cacheName, 1);
                    Retry(write, counts: true, _clock.NowMs + Backoff(write.Attempts + 1), error);
                }
            }

            foreach (PendingWrite<TKey, TValue> write in skipped)
            {
                Retry(write, counts: false, _clock.NowMs, exception: null);
            }

            return;
        }

        // Nothing was accepted this round: the store looks down. Everyone waits, longer each such round.
        _storeDownRounds++;
        long retryAt = _clock.NowMs + Backoff(_storeDownRounds);
        if (failures.Count > 0)
        {
            Log.FlushFailed(_logger, failures[0].Error, _cacheName, failures.Count + skipped.Count);
        }

        foreach ((PendingWrite<TKey, TValue> write, Exception error) in failures)
        {
            Retry(write, counts: false, retryAt, error);
        }

        foreach (PendingWrite<TKey, TValue> write in skipped)
        {
            Retry(write, counts: false, retryAt, exception: null);
        }
    }

    private async Task<bool> StoreAnswersAsync(TKey key)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StoreTimeout, _clock.Time);
            _ = await _store.LoadAsync(key, timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private async Task WriteToStoreAsync(IReadOnlyList<PendingWrite<TKey, TValue>> writes)
    {
        using Activity? activity = CachingDiagnostics.ActivitySource.StartActivity(CachingDiagnostics.StoreWriteActivity, ActivityKind.Client);
        activity?.SetTag(CachingDiagnostics.CacheTag, _cacheName);
        activity?.SetTag(CachingDiagnostics.StrategyTag, "write_back");
        using var timeout = new CancellationTokenSource(_options.StoreTimeout, _clock.Time);
        List<KeyValuePair<TKey, TValue>>? saves = null;
        List<TKey>? deletes = null;
        foreach (PendingWrite<TKey, TValue> write in writes)
        {
            if (write.IsDelete)
            {
                (deletes ??= []).Add(write.Key);
            }
            else
            {
                (saves ??= []).Add(new KeyValuePair<TKey, TValue>(write.Key, write.Value));
            }
        }

        if (saves is not null)
        {
            await _store.SaveAsync(saves, timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
        }

        if (deletes is not null)
        {
            await _store.DeleteAsync(deletes, timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
        }
    }

    private async ValueTask FlushedAsync(List<PendingWrite<TKey, TValue>> writes)
    {
        Interlocked.Add(ref _storeWrites, writes.Count);
        _telemetry.StoreWrites(writes.Count, WriteStrategy.WriteBack);
        List<JournalKeyVersion>? journaled = null;
        foreach (PendingWrite<TKey, TValue> write in writes)
        {
            if (write.JournalKey is not null)
            {
                (journaled ??= []).Add(new JournalKeyVersion(write.JournalKey, write.Version));
            }

            if (_pending.TryRemove(new KeyValuePair<TKey, PendingWrite<TKey, TValue>>(write.Key, write)))
            {
                Interlocked.Decrement(ref _count);
            }
            else if (_pending.ContainsKey(write.Key))
            {
                // Written again while the batch was in flight: the newer value waits its turn. Replacing a write that
                // was already on its way saved no store write, so it is not counted as coalesced.
                Interlocked.Decrement(ref _coalesced);
                _queue.Enqueue(write.Key);
            }
        }

        if (journaled is not null && Journal is { } journal)
        {
            try
            {
                await journal.RemoveAsync(_cacheName, journaled, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // The store has the writes; a journal that still lists them replays them idempotently after a crash.
                Log.FlushFailed(_logger, exception, _cacheName, journaled.Count);
            }
        }

        await _afterFlush(writes).ConfigureAwait(false);
    }

    private void Retry(PendingWrite<TKey, TValue> write, bool counts, long retryAtMs, Exception? exception)
    {
        string error = exception?.Message ?? write.LastError ?? "The store looked down.";
        while (_pending.TryGetValue(write.Key, out PendingWrite<TKey, TValue>? current))
        {
            // A newer write that replaced this one meanwhile is tried alone too, but keeps its fresh attempts.
            PendingWrite<TKey, TValue> failed = current.Failed(counts && ReferenceEquals(current, write), retryAtMs, error);
            if (_pending.TryUpdate(write.Key, failed, current))
            {
                _retry.Add(write.Key);
                return;
            }
        }
    }

    private void DeadLetter(PendingWrite<TKey, TValue> write, Exception exception)
    {
        if (!_pending.TryRemove(new KeyValuePair<TKey, PendingWrite<TKey, TValue>>(write.Key, write)))
        {
            // A newer write replaced the rejected one: the rejected value is superseded, the newer one gets its own attempts.
            Retry(write, counts: false, _clock.NowMs, exception);
            return;
        }

        Interlocked.Decrement(ref _count);
        _deadLetters[write.Key] = new WriteBackDeadLetter<TKey, TValue>(
            write.Key, write.IsDelete ? default : write.Value, write.IsDelete, write.Attempts + 1, exception.Message, _clock.Time.GetUtcNow());
        _deadLetterJournalKeys[write.Key] = write.JournalKey;
        _telemetry.DeadLettered();
        Log.WriteDeadLettered(_logger, exception, _cacheName, write.Key.ToString() ?? string.Empty, write.Attempts + 1);
        _onDeadLettered(write.Key);
    }

    private long Backoff(int attempt)
    {
        double baseMs = _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        double capped = Math.Min(baseMs, _options.RetryMaxDelay.TotalMilliseconds);

        // Full jitter on the upper half: retries of many entries spread out instead of hitting the store together.
        return (long)(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    private void UpdateOldestRetry()
    {
        long oldest = long.MaxValue;
        foreach (TKey key in _retry)
        {
            if (_pending.TryGetValue(key, out PendingWrite<TKey, TValue>? write))
            {
                oldest = Math.Min(oldest, write.FirstQueuedMs);
            }
        }

        Volatile.Write(ref _oldestRetryQueuedMs, oldest);
    }
}
