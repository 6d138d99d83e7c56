namespace BuildingBlocks.Caching.CrashHost;

/// <summary>The system clock shifted by a fixed offset: a machine whose wall clock is behind (or ahead of) another's.</summary>
internal sealed class OffsetTimeProvider(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
