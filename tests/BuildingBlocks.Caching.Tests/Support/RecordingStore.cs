using System.Collections.Concurrent;

namespace BuildingBlocks.Caching.Tests.Support;

public enum StoreCallKind
{
    Load,
    LoadMany,
    Save,
    Delete,
}

/// <summary>One call the cache made to the store; <see cref="Failed"/> when the store threw.</summary>
public sealed record StoreCall<TKey, TValue>(StoreCallKind Kind, IReadOnlyList<TKey> Keys, IReadOnlyList<TValue> Values, bool Failed);

/// <summary>Thrown by <see cref="RecordingStore{TKey,TValue}"/> when it was told to fail.</summary>
public sealed class StoreFailureException(string message) : Exception(message);

/// <summary>
/// The backing store of these tests: an in-memory dictionary that records every call, and can be told to throw for
/// chosen keys, to be down, to hang loads or writes until released, or to pause a load after it read the old value.
/// Batches are atomic: a batch holding a rejected key changes nothing.
/// </summary>
public class RecordingStore<TKey, TValue> : IBackingStore<TKey, TValue>
    where TKey : notnull
{
    private readonly Lock _gate = new();
    private readonly List<StoreCall<TKey, TValue>> _calls = [];
    private readonly ConcurrentDictionary<TKey, string> _rejectedWrites = new();
    private readonly ConcurrentDictionary<TKey, string> _failedLoads = new();
    private readonly ConcurrentDictionary<object, string> _rejectedValues = new();
    private readonly ConcurrentDictionary<TKey, Gate> _pauseAfterRead = new();
    private Gate? _pauseLoadManyAfterRead;
    private Gate? _pauseSaveAfterApply;
    private volatile Gate? _loadGate;
    private volatile Gate? _writeGate;
    private volatile bool _down;

    public ConcurrentDictionary<TKey, TValue> Data { get; } = new();

    /// <summary>Runs inside every save, before it is applied (to look at the cache while the store is being written).</summary>
    public Action<IReadOnlyList<KeyValuePair<TKey, TValue>>>? OnSave { get; set; }

    public IReadOnlyList<StoreCall<TKey, TValue>> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Single-key loads (LoadAsync calls).</summary>
    public int Loads => Count(StoreCallKind.Load);

    public int LoadManyCalls => Count(StoreCallKind.LoadMany);

    /// <summary>Successful save calls (batches).</summary>
    public IReadOnlyList<StoreCall<TKey, TValue>> Saves => [.. Calls.Where(c => c.Kind == StoreCallKind.Save && !c.Failed)];

    /// <summary>Keys written by successful saves and deletes, one per key per call.</summary>
    public int KeysWritten => Calls.Where(c => c.Kind is StoreCallKind.Save or StoreCallKind.Delete && !c.Failed).Sum(c => c.Keys.Count);

    /// <summary>Save and delete calls that threw.</summary>
    public int FailedWrites => Calls.Count(c => c.Kind is StoreCallKind.Save or StoreCallKind.Delete && c.Failed);

    public TValue this[TKey key]
    {
        get => Data[key];
        set => Data[key] = value;
    }

    /// <summary>When true every call throws (the database is unreachable).</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    /// <summary>Every save or delete of a batch holding <paramref name="key"/> throws with <paramref name="message"/>.</summary>
    public void RejectWritesOf(TKey key, string message = "constraint violation") => _rejectedWrites[key] = message;

    public void AcceptWritesOf(TKey key) => _rejectedWrites.TryRemove(key, out _);

    /// <summary>Every save of a batch holding <paramref name="value"/> (for any key) throws.</summary>
    public void RejectValue(TValue value, string message = "invalid value") => _rejectedValues[value!] = message;

    /// <summary>Every load of <paramref name="key"/> throws.</summary>
    public void FailLoadsOf(TKey key, string message = "load failed") => _failedLoads[key] = message;

    public void HealLoadsOf(TKey key) => _failedLoads.TryRemove(key, out _);

    /// <summary>Loads (single and multi) wait at the returned gate before they read anything.</summary>
    public Gate HoldLoads() => _loadGate = new Gate();

    /// <summary>Saves and deletes wait at the returned gate before they apply anything.</summary>
    public Gate HoldWrites() => _writeGate = new Gate();

    /// <summary>The next load of <paramref name="key"/> reads the current value, then waits at the gate before returning it.</summary>
    public Gate PauseNextLoadAfterRead(TKey key)
    {
        var gate = new Gate();
        _pauseAfterRead[key] = gate;
        return gate;
    }

    /// <summary>The next multi-key load reads the current values, then waits at the gate before returning them.</summary>
    public Gate PauseNextLoadManyAfterRead()
    {
        var gate = new Gate();
        Volatile.Write(ref _pauseLoadManyAfterRead, gate);
        return gate;
    }

    /// <summary>The next save applies its values, then waits at the gate before returning (the write is in, the caller does not know yet).</summary>
    public Gate PauseNextSaveAfterApply()
    {
        var gate = new Gate();
        Volatile.Write(ref _pauseSaveAfterApply, gate);
        return gate;
    }

    public async ValueTask<LoadResult<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken)
    {
        if (_loadGate is { } hold)
        {
            await hold.PassAsync();
        }

        if (_down)
        {
            Record(StoreCallKind.Load, [key], [], failed: true);
            throw new StoreFailureException("the database is unreachable");
        }

        if (_failedLoads.TryGetValue(key, out string? message))
        {
            Record(StoreCallKind.Load, [key], [], failed: true);
            throw new StoreFailureException($"{message} ({key})");
        }

        bool found = Data.TryGetValue(key, out TValue? value);
        Record(StoreCallKind.Load, [key], found ? [value!] : [], failed: false);
        if (_pauseAfterRead.TryRemove(key, out Gate? pause))
        {
            await pause.PassAsync();
        }

        return found ? LoadResult<TValue>.Found(value!) : LoadResult<TValue>.NotFound;
    }

    public async ValueTask<IReadOnlyDictionary<TKey, TValue>> LoadManyAsync(IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken)
    {
        if (_loadGate is { } hold)
        {
            await hold.PassAsync();
        }

        if (_down)
        {
            Record(StoreCallKind.LoadMany, [.. keys], [], failed: true);
            throw new StoreFailureException("the database is unreachable");
        }

        if (keys.FirstOrDefault(k => _failedLoads.ContainsKey(k)) is { } failing)
        {
            Record(StoreCallKind.LoadMany, [.. keys], [], failed: true);
            throw new StoreFailureException($"{_failedLoads[failing]} ({failing})");
        }

        var result = new Dictionary<TKey, TValue>();
        foreach (TKey key in keys)
        {
            if (Data.TryGetValue(key, out TValue? value))
            {
                result[key] = value;
            }
        }

        Record(StoreCallKind.LoadMany, [.. keys], [.. result.Values], failed: false);
        if (Interlocked.Exchange(ref _pauseLoadManyAfterRead, null) is { } pause)
        {
            await pause.PassAsync();
        }

        return result;
    }

    public async ValueTask SaveAsync(IReadOnlyList<KeyValuePair<TKey, TValue>> entries, CancellationToken cancellationToken)
    {
        if (_writeGate is { } hold)
        {
            await hold.PassAsync();
        }

        TKey[] keys = [.. entries.Select(e => e.Key)];
        TValue[] values = [.. entries.Select(e => e.Value)];
        ThrowIfRejected(StoreCallKind.Save, keys, values);
        if (values.FirstOrDefault(v => v is not null && _rejectedValues.ContainsKey(v)) is { } rejectedValue)
        {
            Record(StoreCallKind.Save, keys, values, failed: true);
            throw new StoreFailureException($"{_rejectedValues[rejectedValue]}: {rejectedValue}");
        }
        OnSave?.Invoke(entries);
        lock (_gate)
        {
            foreach (KeyValuePair<TKey, TValue> entry in entries)
            {
                Data[entry.Key] = entry.Value;
            }

            _calls.Add(new StoreCall<TKey, TValue>(StoreCallKind.Save, keys, values, Failed: false));
        }

        if (Interlocked.Exchange(ref _pauseSaveAfterApply, null) is { } pause)
        {
            await pause.PassAsync();
        }
    }

    public async ValueTask DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken)
    {
        if (_writeGate is { } hold)
        {
            await hold.PassAsync();
        }

        TKey[] copy = [.. keys];
        ThrowIfRejected(StoreCallKind.Delete, copy, []);
        lock (_gate)
        {
            foreach (TKey key in keys)
            {
                Data.TryRemove(key, out _);
            }

            _calls.Add(new StoreCall<TKey, TValue>(StoreCallKind.Delete, copy, [], Failed: false));
        }
    }

    /// <summary>Every value a successful save wrote for <paramref name="key"/>, in order.</summary>
    public IReadOnlyList<TValue> SavedValuesOf(TKey key) =>
        [.. Saves.SelectMany(c => c.Keys.Zip(c.Values)).Where(p => EqualityComparer<TKey>.Default.Equals(p.First, key)).Select(p => p.Second)];

    private void ThrowIfRejected(StoreCallKind kind, TKey[] keys, TValue[] values)
    {
        string? error = _down ? "the database is unreachable" : null;
        if (error is null && keys.FirstOrDefault(k => _rejectedWrites.ContainsKey(k)) is { } rejected)
        {
            error = $"{_rejectedWrites[rejected]} on key {rejected}";
        }

        if (error is not null)
        {
            Record(kind, keys, values, failed: true);
            throw new StoreFailureException(error);
        }
    }

    private int Count(StoreCallKind kind)
    {
        lock (_gate)
        {
            return _calls.Count(c => c.Kind == kind);
        }
    }

    private void Record(StoreCallKind kind, IReadOnlyList<TKey> keys, IReadOnlyList<TValue> values, bool failed)
    {
        lock (_gate)
        {
            _calls.Add(new StoreCall<TKey, TValue>(kind, keys, values, failed));
        }
    }
}

/// <summary>The store most tests use: string keys and values.</summary>
public sealed class RecordingStore : RecordingStore<string, string>
{
}
