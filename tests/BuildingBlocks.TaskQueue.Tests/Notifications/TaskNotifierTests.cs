using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Tests.Notifications;

public sealed class TaskNotifierTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private readonly TaskNotifier _notifier = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<bool> Wait(string queue, CancellationToken? cancellationToken = null) =>
        _notifier.WaitAsync(queue, Timeout, _time, cancellationToken ?? Ct).AsTask();

    [Fact]
    public async Task Notify_BeforeAnyWait_IsKeptForTheNextWait()
    {
        // A worker claims (finds nothing), a producer enqueues and notifies, then the worker starts waiting: the
        // notification must not be lost, or the task waits a whole poll interval.
        _notifier.Notify("orders");

        Task<bool> wait = Wait("orders");
        bool completedAtOnce = wait.IsCompleted;
        _time.Advance(Timeout);

        Assert.True(await wait, "A notification sent before the first wait on a queue was lost.");
        Assert.True(completedAtOnce);
    }

    [Fact]
    public async Task Notify_WhileNobodyWaits_IsKeptForTheNextWait()
    {
        Task<bool> first = Wait("orders");
        _time.Advance(Timeout);
        Assert.False(await first);

        _notifier.Notify("orders");
        Task<bool> second = Wait("orders");

        Assert.True(second.IsCompleted);
        Assert.True(await second);
    }

    [Fact]
    public async Task Notify_ManyTimesWhileNobodyWaits_WakesOnlyOneWait()
    {
        Task<bool> first = Wait("orders");
        _notifier.Notify("orders");
        Assert.True(await first);

        _notifier.Notify("orders");
        _notifier.Notify("orders");
        Assert.True(await Wait("orders"));

        Task<bool> third = Wait("orders");
        _time.Advance(Timeout);
        Assert.False(await third);
    }

    [Fact]
    public async Task Wait_WithoutNotification_TimesOutWhenTheClockPassesTheTimeout()
    {
        Task<bool> wait = Wait("orders");

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await wait);
    }

    [Fact]
    public async Task Notify_WakesAWaitingWorker()
    {
        Task<bool> wait = Wait("orders");
        Assert.False(wait.IsCompleted);

        _notifier.Notify("orders");

        Assert.True(await wait);
    }

    [Fact]
    public async Task Notify_WakesEveryWorkerWaitingOnTheQueue()
    {
        Task<bool> a = Wait("orders");
        Task<bool> b = Wait("orders");

        _notifier.Notify("orders");

        Assert.True(await a);
        Assert.True(await b);
    }

    [Fact]
    public async Task Notify_AnotherQueue_DoesNotWakeTheWaiter()
    {
        Task<bool> orders = Wait("orders");
        Task<bool> mail = Wait("mail");

        _notifier.Notify("mail");
        _notifier.Notify("Orders");
        Assert.True(await mail);
        _time.Advance(Timeout);

        Assert.False(await orders);
    }

    [Fact]
    public async Task NotifyAll_WakesEveryQueue()
    {
        Task<bool> orders = Wait("orders");
        Task<bool> mail = Wait("mail");

        _notifier.NotifyAll();

        Assert.True(await orders);
        Assert.True(await mail);
    }

    [Fact]
    public async Task Wait_Canceled_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        Task<bool> wait = Wait("orders", cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    [Fact]
    public async Task Wait_AfterACanceledWait_StillReceivesNotifications()
    {
        using var cts = new CancellationTokenSource();
        Task<bool> canceled = Wait("orders", cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled);

        Task<bool> next = Wait("orders");
        _notifier.Notify("orders");

        Assert.True(await next);
    }

    [Fact]
    public async Task NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => _notifier.Notify(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _notifier.WaitAsync(null!, Timeout, _time, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _notifier.WaitAsync("orders", Timeout, null!, Ct));
    }
}
