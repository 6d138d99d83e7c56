using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using BuildingBlocks.Testing;

namespace BuildingBlocks.Benchmarks.PostgreSql;

/// <summary>Which worker <see cref="PostgreSqlWorkerProcess"/> runs.</summary>
internal enum WorkerKind
{
    /// <summary>A host with <c>AddTaskQueue().UsePostgreSql(...)</c> and a delegate handler.</summary>
    BuildingBlocks,

    /// <summary>A Hangfire <c>BackgroundJobServer</c> on Hangfire.PostgreSql with <c>EnableLongPolling</c>.</summary>
    Hangfire,
}

/// <summary>
/// The worker of <see cref="PostgreSqlQueuePickupLatencyBenchmarks"/>, in another process: BuildingBlocks.Benchmarks.PostgreSqlWorker
/// (built beside this project, its dll path recorded at build time) started with <c>dotnet</c>. It prints <c>READY</c>
/// once started and <c>START &lt;Stopwatch.GetTimestamp()&gt;</c> as the first statement of every handler (Stopwatch
/// timestamps are the system-wide monotonic clock on Linux, so they compare across processes); a dedicated thread reads
/// the lines and completes the task <see cref="ExpectStart"/> returned. Disposing closes its stdin, which stops it
/// gracefully, and kills it if it has not exited after 15 s.
/// </summary>
internal sealed class PostgreSqlWorkerProcess : IDisposable
{
    /// <summary>The environment variable that hands the connection string to the child (kept off its command line).</summary>
    public const string ConnectionStringVariable = "BUILDINGBLOCKS_BENCH_PG_WORKER";

    private const int MaxStderrChars = 16 * 1024;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly Thread _reader;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<long> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private PostgreSqlWorkerProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stderr)
            {
                if (_stderr.Length < MaxStderrChars)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        _reader = new Thread(ReadOutput) { IsBackground = true, Name = "PostgreSqlWorkerProcess stdout" };
        _reader.Start();
    }

    /// <summary>The path of the worker's dll, from the benchmark assembly's <c>[AssemblyMetadata("PostgreSqlWorkerPath")]</c>.</summary>
    public static string AssemblyPath { get; } =
        typeof(PostgreSqlWorkerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "PostgreSqlWorkerPath")?.Value
        ?? throw new InvalidOperationException("The benchmark assembly has no PostgreSqlWorkerPath metadata; build BuildingBlocks.Benchmarks with its csproj.");

    /// <summary>Starts a worker for <paramref name="queue"/> on <paramref name="schema"/> and waits until it prints READY.</summary>
    public static PostgreSqlWorkerProcess Start(WorkerKind kind, string connectionString, string schema, string queue, int concurrency)
    {
        if (!File.Exists(AssemblyPath))
        {
            throw new FileNotFoundException($"The worker assembly '{AssemblyPath}' does not exist; build benchmarks/BuildingBlocks.Benchmarks.", AssemblyPath);
        }

        var startInfo = new ProcessStartInfo(ChildProcess.DotnetHostPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(AssemblyPath);
        startInfo.ArgumentList.Add(kind == WorkerKind.Hangfire ? "hangfire" : "buildingblocks");
        startInfo.ArgumentList.Add(schema);
        startInfo.ArgumentList.Add(queue);
        startInfo.ArgumentList.Add(concurrency.ToString(CultureInfo.InvariantCulture));
        startInfo.Environment[ConnectionStringVariable] = connectionString;
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";

        var worker = new PostgreSqlWorkerProcess(Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {AssemblyPath}."));
        try
        {
            worker._ready.Task.WaitAsync(ReadyTimeout).GetAwaiter().GetResult();
        }
        catch (TimeoutException e)
        {
            string description = worker.Describe();
            worker.Dispose();
            throw new TimeoutException($"The {kind} worker did not print READY within {ReadyTimeout}. {description}", e);
        }
        catch
        {
            worker.Dispose();
            throw;
        }

        return worker;
    }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Arms the wait for the next START line; the task completes with the handler's Stopwatch timestamp.</summary>
    public Task<long> ExpectStart()
    {
        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _started, started);
        return started.Task;
    }

    /// <summary>Closes stdin (the worker stops gracefully) and waits; kills it if it is still running after 15 s.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It has exited already.
        }

        if (!_process.WaitForExit(ExitTimeout))
        {
            Console.WriteLine($"// The worker process {_process.Id} did not stop within {ExitTimeout}; killing it.");
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(ExitTimeout);
        }

        _reader.Join(ExitTimeout);
        _process.Dispose();
    }

    private void ReadOutput()
    {
        Exception? failure = null;
        try
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                if (line.StartsWith("START ", StringComparison.Ordinal) &&
                    long.TryParse(line.AsSpan(6), NumberStyles.Integer, CultureInfo.InvariantCulture, out long timestamp))
                {
                    Volatile.Read(ref _started).TrySetResult(timestamp);
                }
                else if (line == "READY")
                {
                    _ready.TrySetResult();
                }
                else
                {
                    Console.WriteLine($"// worker {_process.Id}: {line}");
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            failure = e;
        }

        if (Volatile.Read(ref _disposed) == 0)
        {
            var ended = new InvalidOperationException($"The worker process ended its output unexpectedly. {Describe()}", failure);
            _ready.TrySetException(ended);
            Volatile.Read(ref _started).TrySetException(ended);
        }
    }

    private string Describe()
    {
        string state;
        try
        {
            state = _process.HasExited ? $"exited with code {_process.ExitCode.ToString(CultureInfo.InvariantCulture)}" : "running";
        }
        catch (InvalidOperationException)
        {
            state = "unknown";
        }

        lock (_stderr)
        {
            return $"[{Path.GetFileName(AssemblyPath)}] pid {_process.Id.ToString(CultureInfo.InvariantCulture)}, {state}; stderr: {(_stderr.Length == 0 ? "(empty)" : _stderr.ToString())}";
        }
    }
}
