using System.Diagnostics;
using System.Globalization;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>Freezes and thaws a child process (<c>kill -STOP</c> / <c>kill -CONT</c>), as a long GC pause or a paused VM would.</summary>
internal static class Signals
{
    public static Task FreezeAsync(int pid, CancellationToken cancellationToken) => SendAsync(pid, "-STOP", cancellationToken);

    public static Task ThawAsync(int pid, CancellationToken cancellationToken) => SendAsync(pid, "-CONT", cancellationToken);

    private static async Task SendAsync(int pid, string signal, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("kill") { UseShellExecute = false, RedirectStandardError = true };
        startInfo.ArgumentList.Add(signal);
        startInfo.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        using Process kill = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start kill.");
        string error = await kill.StandardError.ReadToEndAsync(cancellationToken);
        await kill.WaitForExitAsync(cancellationToken);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {pid} failed with exit code {kill.ExitCode}: {error}");
        }
    }
}
