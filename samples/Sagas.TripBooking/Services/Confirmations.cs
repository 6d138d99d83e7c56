using BuildingBlocks.TaskQueue;

namespace Sagas.TripBooking.Services;

/// <summary>How the saga's last step gets the confirmation email out.</summary>
internal interface IConfirmationSender
{
    /// <summary>Sends (or queues) the confirmation; a repeated call with the same key sends nothing new.</summary>
    /// <returns>A reference: the message id, or the task that will send it.</returns>
    Task<string> SendAsync(TripData trip, string idempotencyKey, CancellationToken cancellationToken);
}

/// <summary>Calls the mailer from the step.</summary>
internal sealed class DirectConfirmation(Mailer mailer) : IConfirmationSender
{
    public Task<string> SendAsync(TripData trip, string idempotencyKey, CancellationToken cancellationToken) =>
        mailer.BookAsync(trip, idempotencyKey, cancellationToken);
}

/// <summary>
/// <c>--via-task-queue</c>: the step only enqueues the email on a BuildingBlocks.TaskQueue queue (a SQLite file), with
/// the step's idempotency key as the task's unique key, so a repeated step finds the task it queued before. The queue's
/// hosted worker sends it (retrying on its own), passing the same key to the mailer, so a task run twice sends once.
/// </summary>
internal sealed class QueuedConfirmation(ITaskQueue queue, TravelDatabase database, TripLog log, CrashSwitch crash) : IConfirmationSender
{
    public const string Queue = "emails";

    public async Task<string> SendAsync(TripData trip, string idempotencyKey, CancellationToken cancellationToken)
    {
        EnqueueResult task = await queue.EnqueueAsync(
            Queue,
            new ConfirmationEmail(trip, idempotencyKey),
            new EnqueueOptions { UniqueKey = idempotencyKey },
            cancellationToken);
        string outcome = task.Created ? $"queued task {task.TaskId}" : $"task {task.TaskId} was queued already under this key";
        await database.LogCallAsync("email", "book", idempotencyKey, trip.TripId, outcome, cancellationToken);
        log.Write("email", $"{trip.TripId}: {outcome}");
        await crash.AfterCallAsync("email");
        return $"task {task.TaskId}";
    }
}

/// <summary>The task's payload: the trip as the saga had it, and the key the mailer deduplicates on.</summary>
internal sealed record ConfirmationEmail(TripData Trip, string IdempotencyKey);

/// <summary>The queue's handler: sends the email through the mailer.</summary>
internal sealed class SendConfirmationEmail(Mailer mailer) : TaskHandler<ConfirmationEmail>
{
    protected override async ValueTask HandleAsync(ConfirmationEmail email, TaskContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(email);
        await mailer.BookAsync(email.Trip, email.IdempotencyKey, cancellationToken);
    }
}
