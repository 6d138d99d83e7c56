namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>What the crash saga's steps share: the ledger, this process's coordinator id and the pause between a step's parts.</summary>
internal sealed class CrashService(Ledger ledger, string coordinatorId, TimeSpan maxPause)
{
    public Ledger Ledger { get; } = ledger;

    public string CoordinatorId { get; } = coordinatorId;

    /// <summary>Waits 1 ms to the longest pause (random), so kills land inside steps as well as between them.</summary>
    public Task PauseAsync(CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, Math.Max(2, (int)maxPause.TotalMilliseconds + 1))), cancellationToken);
}

/// <summary>A failure the crash saga's steps throw by design; retried by the step's policy.</summary>
internal sealed class TransientServiceException : Exception
{
    public TransientServiceException()
    {
    }

    public TransientServiceException(string message)
        : base(message)
    {
    }

    public TransientServiceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
