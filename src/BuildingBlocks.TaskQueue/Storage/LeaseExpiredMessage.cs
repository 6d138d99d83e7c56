namespace BuildingBlocks.TaskQueue;

/// <summary>
/// The error every store records on a task whose lease expired without a heartbeat, so operators read the same text
/// whatever the store. SQL stores build it in the statement from <see cref="Prefix"/>, the worker id and <see cref="Suffix"/>.
/// </summary>
public static class LeaseExpiredMessage
{
    /// <summary>The text before the worker id.</summary>
    public const string Prefix = "LeaseExpired: the lease held by worker '";

    /// <summary>The text after the worker id.</summary>
    public const string Suffix = "' expired without a heartbeat (the worker died, hung or lost the store).";

    /// <summary>The message for one worker.</summary>
    /// <param name="worker">The worker that held the lease, or <see langword="null"/> when unknown.</param>
    /// <returns>The message.</returns>
    public static string For(string? worker) => Prefix + worker + Suffix;
}
