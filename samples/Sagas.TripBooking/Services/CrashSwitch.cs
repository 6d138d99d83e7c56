using System.Diagnostics;
using System.Globalization;

namespace Sagas.TripBooking.Services;

/// <summary>
/// Kills this process (SIGKILL, no shutdown code) right after the chosen service answered a booking: the booking is in
/// the service's table, and the saga never got to record it. Off unless <c>--crash-after</c> names a step.
/// </summary>
internal sealed class CrashSwitch(string? afterStep, TextWriter output)
{
    public static CrashSwitch Off { get; } = new(null, TextWriter.Null);

    public async Task AfterCallAsync(string step)
    {
        if (afterStep != step)
        {
            return;
        }

        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  💥 killing process {Environment.ProcessId} (SIGKILL) right after the {step} service answered, before the saga records the step: no shutdown code runs, no lease is handed back."));
        output.Flush();
        using Process self = Process.GetCurrentProcess();
        self.Kill();
        await Task.Delay(Timeout.InfiniteTimeSpan, CancellationToken.None);
    }
}
