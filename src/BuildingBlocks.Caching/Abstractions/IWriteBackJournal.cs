namespace BuildingBlocks.Caching;

/// <summary>
/// Makes acknowledged write-back writes survive a process crash: a write is appended (durably) before the caller's
/// <c>SetAsync</c> returns and removed once the store has it. On start the cache replays what is left. The SQLite
/// journal is in BuildingBlocks.Caching.Sqlite.
/// </summary>
/// <remarks>A journal keeps only the newest write per cache and key: replaying it is idempotent.</remarks>
public interface IWriteBackJournal
{
    /// <summary>Records a write; durable when the returned task completes.</summary>
    ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken);

    /// <summary>Forgets writes the store now has: each key's entry is removed if its version is not newer than the one given.</summary>
    ValueTask RemoveAsync(string cacheName, IReadOnlyList<JournalKeyVersion> flushed, CancellationToken cancellationToken);

    /// <summary>Every write of the cache still waiting for the store, oldest version first.</summary>
    ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(string cacheName, CancellationToken cancellationToken);
}

/// <summary>One journaled write: <see cref="Value"/> is null for a delete.</summary>
/// <param name="CacheName">The cache.</param>
/// <param name="Key">The key as UTF-8 JSON.</param>
/// <param name="Value">The value as serialized by the cache, or null for a delete.</param>
/// <param name="Version">The write's version.</param>
public sealed record JournalEntry(string CacheName, byte[] Key, byte[]? Value, long Version);

/// <summary>A key and the version of it that reached the store.</summary>
/// <param name="Key">The key as UTF-8 JSON.</param>
/// <param name="Version">The flushed version.</param>
public readonly record struct JournalKeyVersion(byte[] Key, long Version);
