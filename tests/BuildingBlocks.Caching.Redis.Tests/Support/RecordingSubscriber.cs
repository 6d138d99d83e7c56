namespace BuildingBlocks.Caching.Redis.Tests.Support;

/// <summary>Records what a backplane delivers, in order, and lets a test wait (bounded) for a condition on it.</summary>
public sealed class RecordingSubscriber : ICacheBackplaneSubscriber
{
    private readonly Lock _gate = new();
    private readonly List<BackplaneMessage> _messages = [];
    private readonly List<string> _missed = [];
    private readonly List<string> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _concurrentCalls;
    private int _maxConcurrentCalls;

    /// <summary>Throws from <see cref="OnMessage"/> after recording, when set.</summary>
    public bool ThrowOnMessage { get; init; }

    public IReadOnlyList<BackplaneMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    public IReadOnlyList<string> MissedReasons
    {
        get
        {
            lock (_gate)
            {
                return [.. _missed];
            }
        }
    }

    /// <summary>"message" and "missed" in the order the calls came.</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The most calls that ran at the same time (1 when the backplane never calls concurrently).</summary>
    public int MaxConcurrentCalls => Volatile.Read(ref _maxConcurrentCalls);

    public void OnMessage(BackplaneMessage message)
    {
        Enter();
        try
        {
            lock (_gate)
            {
                _messages.Add(message);
                _events.Add("message");
                Signal();
            }

            if (ThrowOnMessage)
            {
                throw new InvalidOperationException("This subscriber fails on purpose.");
            }
        }
        finally
        {
            _ = Interlocked.Decrement(ref _concurrentCalls);
        }
    }

    public void OnMessagesMayHaveBeenMissed(string reason)
    {
        Enter();
        try
        {
            lock (_gate)
            {
                _missed.Add(reason);
                _events.Add("missed");
                Signal();
            }
        }
        finally
        {
            _ = Interlocked.Decrement(ref _concurrentCalls);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<RecordingSubscriber, bool> condition, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (condition(this))
            {
                return;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Not within {timeout}: {what}. Received {Messages.Count} messages and {MissedReasons.Count} missed notices.");
            }
        }
    }

    private void Enter()
    {
        int now = Interlocked.Increment(ref _concurrentCalls);
        int max;
        while (now > (max = Volatile.Read(ref _maxConcurrentCalls)) && Interlocked.CompareExchange(ref _maxConcurrentCalls, now, max) != max)
        {
        }
    }

    private void Signal()
    {
        TaskCompletionSource changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
