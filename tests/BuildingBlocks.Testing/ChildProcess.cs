using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace BuildingBlocks.Testing;

/// <summary>
/// A child process for crash tests: started with redirected stdout and stderr, its output lines collected as they
/// arrive, waits bounded by a timeout, and <see cref="Kill"/> that ends it abruptly (SIGKILL on Linux and macOS,
/// TerminateProcess on Windows: no shutdown code runs). Disposing kills it if it still runs.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable, IDisposable
{
    private const int MaxStderrChars = 64 * 1024;

    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stderr = new();
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _outputEnded;
    private int _disposed;

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        Id = process.Id;
        _stdoutPump = PumpStdoutAsync();
        _stderrPump = PumpStderrAsync();
    }

    /// <summary>A readable name for failure messages (the program and its arguments).</summary>
    public string Name { get; }

    /// <summary>The operating system process id.</summary>
    public int Id { get; }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has exited (137 = 128 + SIGKILL on Linux after <see cref="Kill"/>).</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>The stdout lines received so far, in order.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>What the process wrote to stderr so far (the last 64 KiB).</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>
    /// The path of the <c>dotnet</c> host running this process (or the one <c>DOTNET_HOST_PATH</c> names), so a child
    /// runs on the same runtime as the test.
    /// </summary>
    public static string DotnetHostPath { get; } = FindDotnetHost();

    /// <summary>Starts <c>dotnet &lt;assemblyPath&gt; args…</c>.</summary>
    /// <param name="assemblyPath">The path of a framework-dependent app's .dll (its runtimeconfig.json beside it).</param>
    /// <param name="arguments">The app's arguments.</param>
    /// <returns>The running child.</returns>
    /// <exception cref="FileNotFoundException">The assembly does not exist (build the project that produces it).</exception>
    public static ChildProcess StartDotnet(string assemblyPath, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(assemblyPath);
        ArgumentNullException.ThrowIfNull(arguments);
        if (!File.Exists(assemblyPath))
        {
            throw new FileNotFoundException($"The child process assembly '{assemblyPath}' does not exist; build the project that produces it.", assemblyPath);
        }

        return Start(DotnetHostPath, [assemblyPath, .. arguments], workingDirectory: null);
    }

    /// <summary>Starts a program with redirected stdout and stderr (stdin is not redirected).</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments, passed as a list (no shell quoting involved).</param>
    /// <param name="workingDirectory">Its working directory, or <see langword="null"/> for this process's.</param>
    /// <param name="environment">Extra environment variables (a <see langword="null"/> value removes one), or <see langword="null"/>.</param>
    /// <returns>The running child.</returns>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory, IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (workingDirectory is not null)
        {
            startInfo.WorkingDirectory = workingDirectory;
        }

        // Children must not inherit a test host's telemetry or first-run chatter.
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        if (environment is not null)
        {
            foreach ((string key, string? value) in environment)
            {
                if (value is null)
                {
                    startInfo.Environment.Remove(key);
                }
                else
                {
                    startInfo.Environment[key] = value;
                }
            }
        }

        string name = string.Join(' ', [Path.GetFileName(fileName), .. startInfo.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a)]);
        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {name}.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start {name}: {e.Message}", e);
        }

        return new ChildProcess(process, name);
    }

    /// <summary>Waits until a stdout line (received before or after the call) matches.</summary>
    /// <param name="predicate">The condition on one line.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The first matching line.</returns>
    /// <exception cref="TimeoutException">No line matched in time; the message holds the output and stderr.</exception>
    /// <exception cref="InvalidOperationException">The process exited and no line matched.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        string? found = null;
        await WaitForOutputAsync(
            lines =>
            {
                found = lines.FirstOrDefault(predicate);
                return found is not null;
            },
            timeout,
            cancellationToken);
        return found!;
    }

    /// <summary>Waits until the stdout lines received so far satisfy a condition (for example "two STARTED lines").</summary>
    /// <param name="condition">The condition on every line so far, evaluated after each new line.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The lines that satisfied the condition.</returns>
    /// <exception cref="TimeoutException">The condition did not hold in time; the message holds the output and stderr.</exception>
    /// <exception cref="InvalidOperationException">The process exited (all its output read) and the condition does not hold.</exception>
    public async Task<IReadOnlyList<string>> WaitForOutputAsync(Func<IReadOnlyList<string>, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            List<string> lines;
            Task changed;
            bool ended;
            lock (_gate)
            {
                lines = [.. _lines];
                changed = _changed.Task;
                ended = _outputEnded;
            }

            if (condition(lines))
            {
                return lines;
            }

            if (ended)
            {
                await WaitForExitCoreAsync(TimeSpan.FromSeconds(5), cancellationToken);
                throw new InvalidOperationException($"{Name} exited (code {ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}) before its output matched.{Environment.NewLine}{Describe()}");
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Name} did not print the expected output within {timeout}.{Environment.NewLine}{Describe()}");
            }
        }
    }

    /// <summary>Kills the process and its descendants at once: SIGKILL on Linux, no shutdown code runs. Idempotent.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (Win32Exception) when (_process.HasExited)
        {
        }
    }

    /// <summary>Waits for the process to exit and for its output to be read to the end.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="TimeoutException">It still runs; the message holds the output and stderr.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!await WaitForExitCoreAsync(timeout, cancellationToken))
        {
            throw new TimeoutException($"{Name} did not exit within {timeout}.{Environment.NewLine}{Describe()}");
        }

        return _process.ExitCode;
    }

    /// <summary>The process's name, state, last stdout lines and stderr, for assertion messages.</summary>
    /// <param name="lastLines">How many of the last stdout lines to include.</param>
    /// <returns>The description.</returns>
    public string Describe(int lastLines = 40)
    {
        List<string> lines;
        string stderr;
        lock (_gate)
        {
            lines = [.. _lines.TakeLast(lastLines)];
            stderr = _stderr.ToString();
        }

        string state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "running";
        var text = new StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"[{Name}] pid {Id}, {state}").AppendLine();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"--- last {lines.Count} stdout lines ---").AppendLine();
        foreach (string line in lines)
        {
            text.AppendLine(line);
        }

        text.AppendLine("--- stderr ---").AppendLine(stderr.Length == 0 ? "(empty)" : stderr);
        return text.ToString();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill();
        await WaitForExitCoreAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill();
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private static string FindDotnetHost()
    {
        string executable = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } processPath && string.Equals(Path.GetFileName(processPath), executable, StringComparison.OrdinalIgnoreCase))
        {
            return processPath;
        }

        // The shared runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        string runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        string candidate = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", executable));
        return File.Exists(candidate) ? candidate : executable;
    }

    private async Task<bool> WaitForExitCoreAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // Process.WaitForExitAsync also waits for redirected output to reach its end.
            await _process.WaitForExitAsync(deadline.Token);
            await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task PumpStdoutAsync()
    {
        await Task.Yield();
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (_gate)
                {
                    _lines.Add(line);
                    Signal();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The pipe broke or the process object was disposed: the output ends here.
        }
        finally
        {
            lock (_gate)
            {
                _outputEnded = true;
                Signal();
            }
        }
    }

    private async Task PumpStderrAsync()
    {
        await Task.Yield();
        try
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_gate)
                {
                    if (_stderr.Length < MaxStderrChars)
                    {
                        _stderr.AppendLine(line);
                    }
                    else
                    {
                        // Keep the tail: the last lines usually say why the process failed.
                        _stderr.Remove(0, Math.Min(_stderr.Length, line.Length + Environment.NewLine.Length)).AppendLine(line);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>Wakes every waiter; called under the lock.</summary>
    private void Signal()
    {
        TaskCompletionSource changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
