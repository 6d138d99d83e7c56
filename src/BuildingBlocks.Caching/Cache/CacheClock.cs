namespace BuildingBlocks.Caching;

/// <summary>
/// Milliseconds for expiry checks. With the system clock it reads a value a timer refreshes every few milliseconds,
/// because even <see cref="Environment.TickCount64"/> costs ~6 ns, a third of an L1 hit; any other
/// <see cref="TimeProvider"/> (a fake one in tests) is read on every call.
/// </summary>
internal sealed class CacheClock
{
    private const int CoarsePeriodMilliseconds = 4;
    private static readonly Lock TimerLock = new();
    private static long s_coarseNow = Environment.TickCount64;
    private static ITimer? s_timer;

    private readonly TimeProvider _time;
    private readonly bool _coarse;
    private readonly long _origin;
    private long _lastVersion;

    public CacheClock(TimeProvider time)
    {
        _time = time;
        _coarse = ReferenceEquals(time, TimeProvider.System);
        _origin = time.GetTimestamp();
        if (_coarse)
        {
            StartCoarseTimer();
        }
    }

    public TimeProvider Time => _time;

    /// <summary>True when <see cref="NowMs"/> is the timer-refreshed value: callers on hot paths read <see cref="CoarseNowMs"/> directly.</summary>
    public bool IsCoarse => _coarse;

    public static long CoarseNowMs => Volatile.Read(ref s_coarseNow);

    /// <summary>Milliseconds on a monotonic scale (only differences mean anything).</summary>
    public long NowMs => _coarse ? Volatile.Read(ref s_coarseNow) : (long)_time.GetElapsedTime(_origin).TotalMilliseconds;

    /// <summary>
    /// A version for a write or a load: wall-clock ticks, forced to grow by at least one per call, so versions from one
    /// cache are unique and ordered and versions from different nodes are ordered up to clock skew.
    /// </summary>
    public long NextVersion()
    {
        long now = _time.GetUtcNow().UtcTicks;
        while (true)
        {
            long last = Volatile.Read(ref _lastVersion);
            long next = now > last ? now : last + 1;
            if (Interlocked.CompareExchange(ref _lastVersion, next, last) == last)
            {
                return next;
            }
        }
    }

    /// <summary>Moves the version clock past <paramref name="version"/> (a journal written by a clock that ran ahead).</summary>
    public void Observe(long version)
    {
        while (true)
        {
            long last = Volatile.Read(ref _lastVersion);
            if (last >= version || Interlocked.CompareExchange(ref _lastVersion, version, last) == last)
            {
                return;
            }
        }
    }

    private static void StartCoarseTimer()
    {
        if (Volatile.Read(ref s_timer) is not null)
        {
            return;
        }

        lock (TimerLock)
        {
            s_timer ??= TimeProvider.System.CreateTimer(
                static _ => Volatile.Write(ref s_coarseNow, Environment.TickCount64),
                null,
                TimeSpan.Zero,
                TimeSpan.FromMilliseconds(CoarsePeriodMilliseconds));
        }
    }
}
