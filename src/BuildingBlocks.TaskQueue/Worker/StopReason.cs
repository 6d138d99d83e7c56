namespace BuildingBlocks.TaskQueue;

/// <summary>Why a running attempt's cancellation token fired; the first reason wins.</summary>
internal enum StopReason
{
    None = 0,
    LeaseLost = 1,
    CancelRequested = 2,
    Timeout = 3,
    Shutdown = 4,
}
