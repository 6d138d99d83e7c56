using System.Text;

namespace BuildingBlocks.Caching.Tests.Support;

/// <summary>A write-back journal in a dictionary (newest write per cache and key), recording every call.</summary>
public sealed class InMemoryJournal : IWriteBackJournal
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Cache, string Key), JournalEntry> _entries = [];
    private int _appends;
    private int _removes;

    public int Appends => Volatile.Read(ref _appends);

    /// <summary>When true, appends throw (the journal's disk is full).</summary>
    public bool FailAppends { get; set; }

    public int Removes => Volatile.Read(ref _removes);

    public IReadOnlyList<JournalEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries.Values.OrderBy(e => e.Version)];
            }
        }
    }

    public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        if (FailAppends)
        {
            return ValueTask.FromException(new IOException("disk full"));
        }

        lock (_gate)
        {
            _appends++;
            var id = (entry.CacheName, Encoding.UTF8.GetString(entry.Key));
            if (!_entries.TryGetValue(id, out JournalEntry? existing) || existing.Version <= entry.Version)
            {
                _entries[id] = entry;
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveAsync(string cacheName, IReadOnlyList<JournalKeyVersion> flushed, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _removes++;
            foreach (JournalKeyVersion item in flushed)
            {
                var id = (cacheName, Encoding.UTF8.GetString(item.Key));
                if (_entries.TryGetValue(id, out JournalEntry? existing) && existing.Version <= item.Version)
                {
                    _entries.Remove(id);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(string cacheName, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<JournalEntry>>([.. _entries.Values.Where(e => e.CacheName == cacheName).OrderBy(e => e.Version)]);
        }
    }

    /// <summary>Puts an entry in as if a previous process had journaled it and crashed.</summary>
    public void Seed(string cacheName, string keyJson, string? valueJson, long version)
    {
        byte[]? value = valueJson is null ? null : Encoding.UTF8.GetBytes(valueJson);
        lock (_gate)
        {
            _entries[(cacheName, keyJson)] = new JournalEntry(cacheName, Encoding.UTF8.GetBytes(keyJson), value, version);
        }
    }
}
