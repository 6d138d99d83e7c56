using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;

namespace TaskQueue.PizzaShop;

/// <summary>
/// The shop's handle on one oven process: <c>dotnet TaskQueue.PizzaShop.dll oven …</c> with stdout turned into
/// <see cref="OvenEvent"/>s on a shared channel, stderr kept for diagnostics, and stdin held open until
/// <see cref="HangUpAsync"/> tells the oven to stop.
/// </summary>
internal sealed class OvenProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly Task _stdout;
    private readonly Task _stderrPump;

    private OvenProcess(string name, Process process, ChannelWriter<OvenEvent> events)
    {
        Name = name;
        _process = process;
        _stdout = PumpStdoutAsync(events);
        _stderrPump = PumpStderrAsync();
    }

    public string Name { get; }

    public int ProcessId => _process.Id;

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static OvenProcess Start(OvenSettings settings, ChannelWriter<OvenEvent> events)
    {
        string assembly = typeof(OvenProcess).Assembly.Location;
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(assembly);
        foreach (string argument in settings.ToArguments())
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        try
        {
            return new OvenProcess(settings.Name, Process.Start(start) ?? throw new InvalidOperationException($"Could not start {settings.Name}."), events);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start {settings.Name} ({DotnetHost.Path} {assembly}): {e.Message}", e);
        }
    }

    /// <summary>Closes the oven's stdin: it finishes its current pizza, hands nothing back (nothing is left) and exits.</summary>
    public async Task<int> HangUpAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It is exiting already.
            }
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        await Task.WhenAll(_stdout, _stderrPump);
        return _process.ExitCode;
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
    }

    private async Task PumpStdoutAsync(ChannelWriter<OvenEvent> events)
    {
        await Task.Yield();
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (OvenEvent.Parse(Name, line) is { } e)
                {
                    await events.WriteAsync(e);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }

        await _process.WaitForExitAsync(CancellationToken.None);
        await events.WriteAsync(new OvenEvent(Name, OvenEventKind.Exited, ExitCode: _process.ExitCode));
    }

    private async Task PumpStderrAsync()
    {
        await Task.Yield();
        try
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(line);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>The dotnet host running this process, so the ovens run on the same runtime as the shop.</summary>
    private static class DotnetHost
    {
        public static string Path { get; } = Find();

        private static string Find()
        {
            string executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
            if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
            {
                return host;
            }

            if (Environment.ProcessPath is { } process && string.Equals(System.IO.Path.GetFileName(process), executable, StringComparison.OrdinalIgnoreCase))
            {
                return process;
            }

            // The shared runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
            string candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", executable));
            return File.Exists(candidate) ? candidate : executable;
        }
    }
}
