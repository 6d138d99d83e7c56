namespace BuildingBlocks.Caching;

/// <summary>A write-back write the store rejected on every attempt; it is kept here, not dropped.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value that was written; <see langword="default"/> for a delete.</param>
/// <param name="IsDelete">True when the write was a delete.</param>
/// <param name="Attempts">How many times the store was asked.</param>
/// <param name="LastError">The store's last error message.</param>
/// <param name="DeadLetteredAt">When the flusher gave up.</param>
public sealed record WriteBackDeadLetter<TKey, TValue>(
    TKey Key,
    TValue? Value,
    bool IsDelete,
    int Attempts,
    string LastError,
    DateTimeOffset DeadLetteredAt);
