using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace BuildingBlocks.Caching;

/// <summary>
/// L2 over any <see cref="IDistributedCache"/>. Entries are stored as [format byte][version, 8 bytes][value bytes].
/// Every call has a timeout; a failure opens a circuit so L2 is skipped for a while (Redis down must not slow every
/// read), and keys whose L2 write or removal failed are removed from L2 once it answers again, so L2 cannot keep
/// serving a value the store no longer has.
/// </summary>
internal sealed class DistributedLayer<TKey, TValue>
    where TKey : notnull
{
    private const byte Format = 1;
    private const int HeaderBytes = 9;
    private const int MaxRepairKeys = 100_000;

    private readonly IDistributedCache _cache;
    private readonly CacheOptions<TKey, TValue> _options;
    private readonly ICacheSerializer<TValue> _serializer;
    private readonly Func<TKey, string> _formatKey;
    private readonly string _prefix;
    private readonly string _cacheName;
    private readonly CacheClock _clock;
    private readonly CacheTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly DistributedCacheEntryOptions _entryOptions;
    private readonly ConcurrentDictionary<string, byte> _needsRemoval = new(StringComparer.Ordinal);
    private long _openUntilMs = long.MinValue;
    private int _repairing;
    private long _failures;

    public DistributedLayer(
        IDistributedCache cache,
        CacheOptions<TKey, TValue> options,
        string cacheName,
        ICacheSerializer<TValue> serializer,
        Func<TKey, string> formatKey,
        CacheClock clock,
        CacheTelemetry telemetry,
        ILogger logger)
    {
        _cache = cache;
        _options = options;
        _cacheName = cacheName;
        _serializer = serializer;
        _formatKey = formatKey;
        _clock = clock;
        _telemetry = telemetry;
        _logger = logger;
        _prefix = "bbcache:" + cacheName + ":";
        _entryOptions = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = options.DistributedExpiration ?? options.Expiration };
    }

    public long Failures => Interlocked.Read(ref _failures);

    private bool IsOpen => _clock.NowMs < Volatile.Read(ref _openUntilMs);

    /// <summary>Reads the key; a miss, an open circuit, a failure or an unreadable entry all return false.</summary>
    public async ValueTask<(bool Found, TValue Value, long Version)> TryGetAsync(TKey key, CancellationToken cancellationToken)
    {
        if (IsOpen)
        {
            return default;
        }

        string l2Key = _prefix + _formatKey(key);
        byte[]? bytes;
        try
        {
            bytes = await _cache.GetAsync(l2Key, cancellationToken)
                .WaitAsync(_options.DistributedTimeout, _clock.Time, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Fail(exception, "get");
            return default;
        }

        RepairIfNeeded();
        if (bytes is null)
        {
            return default;
        }

        try
        {
            if (bytes.Length < HeaderBytes || bytes[0] != Format)
            {
                throw new FormatException($"The L2 entry has {bytes.Length} bytes and format byte {(bytes.Length > 0 ? bytes[0] : -1)}; expected format {Format} and at least {HeaderBytes} bytes.");
            }

            long version = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(1));
            TValue value = _serializer.Deserialize(bytes.AsSpan(HeaderBytes));
            return (true, value, version);
        }
        catch (Exception exception)
        {
            Log.DistributedValueUnreadable(_logger, exception, _cacheName, l2Key);
            _ = await RemoveAsync(key, cancellationToken).ConfigureAwait(false);
            return default;
        }
    }

    /// <summary>Writes the key; values too large or unserializable are skipped (logged), failures remembered for repair.</summary>
    public async ValueTask<bool> SetAsync(TKey key, TValue value, long version, CancellationToken cancellationToken)
    {
        string l2Key = _prefix + _formatKey(key);
        byte[] payload;
        try
        {
            payload = _serializer.Serialize(value);
        }
        catch (Exception exception)
        {
            Log.SerializationFailed(_logger, exception, _cacheName, l2Key);
            return await RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }

        if (payload.Length > _options.MaxDistributedValueBytes)
        {
            Log.DistributedValueTooLarge(_logger, _cacheName, l2Key, payload.Length, _options.MaxDistributedValueBytes);
            return await RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }

        if (IsOpen)
        {
            RememberForRemoval(l2Key);
            return false;
        }

        byte[] bytes = new byte[HeaderBytes + payload.Length];
        bytes[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), version);
        payload.CopyTo(bytes.AsSpan(HeaderBytes));
        try
        {
            await _cache.SetAsync(l2Key, bytes, _entryOptions, cancellationToken)
                .WaitAsync(_options.DistributedTimeout, _clock.Time, cancellationToken)
                .ConfigureAwait(false);
            _needsRemoval.TryRemove(l2Key, out _);
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Fail(exception, "set");
            RememberForRemoval(l2Key);
            return false;
        }
    }

    /// <summary>Removes the key; a failure is remembered and retried once L2 answers again.</summary>
    public async ValueTask<bool> RemoveAsync(TKey key, CancellationToken cancellationToken)
    {
        string l2Key = _prefix + _formatKey(key);
        if (IsOpen)
        {
            RememberForRemoval(l2Key);
            return false;
        }

        try
        {
            await _cache.RemoveAsync(l2Key, cancellationToken)
                .WaitAsync(_options.DistributedTimeout, _clock.Time, cancellationToken)
                .ConfigureAwait(false);
            _needsRemoval.TryRemove(l2Key, out _);
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Fail(exception, "remove");
            RememberForRemoval(l2Key);
            return false;
        }
    }

    private void Fail(Exception exception, string operation)
    {
        Interlocked.Increment(ref _failures);
        _telemetry.DistributedFailed();
        Volatile.Write(ref _openUntilMs, _clock.NowMs + (long)_options.DistributedCircuitBreakDuration.TotalMilliseconds);
        Log.DistributedCacheFailed(_logger, exception, _cacheName, operation, _options.DistributedCircuitBreakDuration);
    }

    private void RememberForRemoval(string l2Key)
    {
        if (_needsRemoval.Count < MaxRepairKeys)
        {
            _needsRemoval.TryAdd(l2Key, 0);
        }
    }

    private void RepairIfNeeded()
    {
        if (_needsRemoval.IsEmpty || Interlocked.CompareExchange(ref _repairing, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(RepairAsync);
    }

    private async Task RepairAsync()
    {
        try
        {
            foreach (string l2Key in _needsRemoval.Keys)
            {
                if (IsOpen)
                {
                    return;
                }

                try
                {
                    await _cache.RemoveAsync(l2Key, CancellationToken.None)
                        .WaitAsync(_options.DistributedTimeout, _clock.Time)
                        .ConfigureAwait(false);
                    _needsRemoval.TryRemove(l2Key, out _);
                }
                catch (Exception exception)
                {
                    Fail(exception, "repair");
                    return;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _repairing, 0);
        }
    }
}
