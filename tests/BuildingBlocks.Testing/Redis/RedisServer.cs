using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BuildingBlocks.Testing;

/// <summary>
/// A real, throwaway Redis server for tests: <c>redis-server</c> on a free loopback port in a fresh temporary directory,
/// with persistence off (<c>--save "" --appendonly no</c>), started and stopped by the test. Tests may stop it, start it
/// again on the same port (<see cref="StopAsync"/>, <see cref="StartAgainAsync"/>) or kill it
/// (<see cref="KillAsync"/>) to simulate an outage: clients keep their configuration and reconnect. Disposing kills it
/// and deletes the directory.
/// </summary>
/// <remarks>
/// The binary comes from <c>PATH</c>, else from <c>/usr/bin</c>, <c>/usr/local/bin</c> or <c>/usr/sbin</c>; when none
/// has it, <see cref="StartAsync"/> throws an <see cref="InvalidOperationException"/> that names
/// <see cref="InstallCommand"/> (<c>eng/test.sh</c> installs it when it is missing). Persistence is off, so a restart
/// starts with an empty data set, as a failover to an empty replica would.
/// </remarks>
public sealed class RedisServer : IAsyncDisposable
{
    /// <summary>The command that installs the server on Debian and Ubuntu.</summary>
    public const string InstallCommand = "apt-get install -y redis-server";

    /// <summary>The server program's name.</summary>
    public const string ServerProgram = "redis-server";

    /// <summary>The address the server binds to.</summary>
    public const string Host = "127.0.0.1";

    internal static readonly string[] DefaultFallbackDirectories = ["/usr/bin", "/usr/local/bin", "/usr/sbin"];

    private const int StartAttempts = 3;
    private const int LogLinesInErrors = 40;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);

    private readonly TempDirectory _directory;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ChildProcess? _process;
    private int _disposed;

    private RedisServer(string serverPath, TempDirectory directory)
    {
        ServerPath = serverPath;
        _directory = directory;
    }

    /// <summary>The loopback TCP port the server listens on (the same after <see cref="StartAgainAsync"/>).</summary>
    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:&lt;port&gt;</c>: the server's endpoint.</summary>
    public string EndPoint => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// A StackExchange.Redis configuration string for the server (<c>127.0.0.1:&lt;port&gt;</c>); append options such as
    /// <c>,abortConnect=false</c> as needed.
    /// </summary>
    public string ConnectionString => EndPoint;

    /// <summary>The temporary directory (the server's <c>--dir</c> and its log file). Deleted on dispose.</summary>
    public string DirectoryPath => _directory.Path;

    /// <summary>The server's log file inside <see cref="DirectoryPath"/>; every start appends to it.</summary>
    public string LogFilePath => _directory.File("redis.log");

    /// <summary>The <c>redis-server</c> program that runs this server.</summary>
    public string ServerPath { get; }

    /// <summary>The operating-system process id of the running server, or <see langword="null"/> when it does not run.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    /// <summary>Whether the server process runs (started and not stopped, killed or disposed since).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// Starts <c>redis-server</c> on a free loopback port in a fresh temporary directory and waits until it answers
    /// <c>PING</c> (another port is tried when the chosen one was taken in the meantime).
    /// </summary>
    /// <param name="cancellationToken">Cancels the start; the directory is removed.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException">
    /// <c>redis-server</c> is missing (the message names <see cref="InstallCommand"/> and <c>eng/test.sh</c>), or it
    /// exited during start-up (the message holds its output and the log's last lines).
    /// </exception>
    /// <exception cref="TimeoutException">The server did not answer <c>PING</c> in time.</exception>
    public static async Task<RedisServer> StartAsync(CancellationToken cancellationToken = default)
    {
        string serverPath = FindServer(Environment.GetEnvironmentVariable("PATH"), DefaultFallbackDirectories);
        var server = new RedisServer(serverPath, new TempDirectory("bb-redis"));
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                server.Port = LoopbackPort.GetFree();
                long logOffset = server.LogLength();
                try
                {
                    await server.StartCoreAsync(cancellationToken);
                    return server;
                }
                catch (InvalidOperationException) when (attempt < StartAttempts && server.PortWasTakenSince(logOffset))
                {
                    // Another process took the free port between LoopbackPort.GetFree and the bind: try another.
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends <c>PING</c> over a new TCP connection.</summary>
    /// <param name="cancellationToken">Cancels the ping.</param>
    /// <returns><see langword="true"/> when the server answered <c>PONG</c>; <see langword="false"/> when it could not be reached or answered something else.</returns>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await ExecuteAsync(["PING"], cancellationToken) == "PONG";
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs one command over a new TCP connection (the RESP protocol, no client library involved) and returns the reply:
    /// a simple string, an integer as text, a bulk string (<see langword="null"/> for a nil reply), or the elements of an
    /// array joined by newlines.
    /// </summary>
    /// <param name="command">The command and its arguments, for example <c>["SET", "key", "value"]</c>.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The reply.</returns>
    /// <exception cref="InvalidOperationException">The server answered with an error (the message holds it).</exception>
    /// <exception cref="SocketException">The server could not be reached.</exception>
    /// <exception cref="TimeoutException">No reply within 10 seconds.</exception>
    public async Task<string?> ExecuteAsync(IReadOnlyList<string> command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count == 0)
        {
            throw new ArgumentException("A command needs at least its name.", nameof(command));
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CommandTimeout);
        try
        {
            using var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, Port, deadline.Token);
            await using NetworkStream stream = client.GetStream();
            await stream.WriteAsync(EncodeCommand(command), deadline.Token);
            var reader = new RespReader(stream);
            return await reader.ReadReplyAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Redis on {EndPoint} did not answer {command[0]} within {CommandTimeout}.");
        }
    }

    /// <summary>
    /// Stops the server as an operator would (<c>SHUTDOWN NOSAVE</c>; SIGKILL if it does not exit in time). Clients see
    /// their connections closed. Does nothing when it is not running.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes once the process has exited.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            await StopCoreAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Simulates a crash: SIGKILL to the server, no shutdown code runs; clients find out when their sockets fail. Does
    /// nothing when it is not running.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes once the process has exited.</returns>
    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            await KillCoreAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts the server again after <see cref="StopAsync"/> or <see cref="KillAsync"/>, on the same port (with an empty
    /// data set: persistence is off), and waits until it answers <c>PING</c>. Clients keep their configuration.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes once the server answers.</returns>
    /// <exception cref="InvalidOperationException">It already runs, or the start failed (the message holds the log's last lines).</exception>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (IsRunning)
            {
                throw new InvalidOperationException($"The Redis server on port {Port} already runs; stop or kill it first.");
            }

            await StartCoreAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The last lines of the server log, for assertion messages.</summary>
    /// <param name="lines">How many lines.</param>
    /// <returns>The lines, or a note that there is no log yet.</returns>
    public string ReadLogTail(int lines = LogLinesInErrors) => LogFile.ReadTail(LogFilePath, lines);

    /// <summary>Kills the server (a throwaway: nothing to save) and deletes the directory.</summary>
    /// <returns>A task that completes once the process is gone and the directory deleted.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            await KillCoreAsync();
        }
        finally
        {
            _gate.Release();
        }

        _directory.Dispose();
        _gate.Dispose();
    }

    /// <summary>The <c>redis-server</c> program: the first on <paramref name="pathVariable"/>, else the first of <paramref name="fallbackDirectories"/> that has it.</summary>
    /// <param name="pathVariable">The <c>PATH</c> value to search.</param>
    /// <param name="fallbackDirectories">Where to look next.</param>
    /// <returns>The program's full path.</returns>
    /// <exception cref="InvalidOperationException">None has it; the message names <see cref="InstallCommand"/> and <c>eng/test.sh</c>.</exception>
    internal static string FindServer(string? pathVariable, IEnumerable<string> fallbackDirectories)
    {
        string[] path = (pathVariable ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] fallbacks = [.. fallbackDirectories];
        string? found = path.Concat(fallbacks)
            .Select(directory => Path.Combine(directory, ServerProgram))
            .FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException(
            $"{ServerProgram} was not found on PATH nor in {string.Join(", ", fallbacks)}. The Redis tests start a real server of their own on loopback; "
            + $"install it with: {InstallCommand} (eng/test.sh installs it when it is missing).");
    }

    private static byte[] EncodeCommand(IReadOnlyList<string> command)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"*{command.Count}\r\n");
        foreach (string argument in command)
        {
            text.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n").Append(argument).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        string port = Port.ToString(CultureInfo.InvariantCulture);
        _process = ChildProcess.Start(
            ServerPath,
            ["--port", port, "--bind", Host, "--save", "", "--appendonly", "no", "--dir", DirectoryPath, "--logfile", LogFilePath, "--daemonize", "no"],
            DirectoryPath,
            new Dictionary<string, string?> { ["LC_ALL"] = "C", ["LANG"] = "C" });

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartTimeout);
        try
        {
            while (true)
            {
                if (_process.HasExited)
                {
                    ChildProcess failed = _process;
                    _process = null;
                    await failed.DisposeAsync();
                    throw new InvalidOperationException($"{ServerProgram} exited during start-up on port {port}.{Environment.NewLine}{failed.Describe()}{LogSection()}");
                }

                if (await PingAsync(deadline.Token))
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string description = _process?.Describe() ?? string.Empty;
            await KillCoreAsync();
            throw new TimeoutException($"{ServerProgram} on port {port} did not answer PING within {StartTimeout}.{Environment.NewLine}{description}{LogSection()}");
        }
        catch (OperationCanceledException)
        {
            await KillCoreAsync();
            throw;
        }
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        if (_process is not { HasExited: false } process)
        {
            await KillCoreAsync();
            return;
        }

        try
        {
            // The server closes every connection, this one included, without a reply.
            _ = await ExecuteAsync(["SHUTDOWN", "NOSAVE"], cancellationToken);
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException or InvalidOperationException)
        {
        }

        try
        {
            _ = await process.WaitForExitAsync(StopTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // SIGKILL below.
        }

        await KillCoreAsync();
    }

    private async Task KillCoreAsync()
    {
        ChildProcess? process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        // SIGKILL if it still runs (idempotent after an exit), then wait for the exit and the end of its output.
        process.Kill();
        try
        {
            _ = await process.WaitForExitAsync(ExitTimeout);
        }
        catch (TimeoutException)
        {
        }

        await process.DisposeAsync();
    }

    private long LogLength()
    {
        try
        {
            return new FileInfo(LogFilePath).Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    private bool PortWasTakenSince(long offset)
    {
        try
        {
            using var stream = new FileStream(LogFilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd().Contains("Address already in use", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private string LogSection() =>
        File.Exists(LogFilePath)
            ? $"{Environment.NewLine}--- last {LogLinesInErrors.ToString(CultureInfo.InvariantCulture)} lines of {LogFilePath} ---{Environment.NewLine}{ReadLogTail()}"
            : string.Empty;

    /// <summary>Reads one RESP2 reply from a stream.</summary>
    private sealed class RespReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[4096];
        private int _start;
        private int _end;

        public async Task<string?> ReadReplyAsync(CancellationToken cancellationToken)
        {
            string line = await ReadLineAsync(cancellationToken);
            if (line.Length == 0)
            {
                throw new IOException("Redis sent an empty reply line.");
            }

            string rest = line[1..];
            switch (line[0])
            {
                case '+':
                case ':':
                    return rest;
                case '-':
                    throw new InvalidOperationException($"Redis answered with an error: {rest}");
                case '$':
                    int length = int.Parse(rest, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                    if (length < 0)
                    {
                        return null;
                    }

                    byte[] bytes = await ReadExactlyAsync(length + 2, cancellationToken);
                    return Encoding.UTF8.GetString(bytes, 0, length);
                case '*':
                    int count = int.Parse(rest, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                    if (count < 0)
                    {
                        return null;
                    }

                    var elements = new List<string?>(count);
                    for (int i = 0; i < count; i++)
                    {
                        elements.Add(await ReadReplyAsync(cancellationToken));
                    }

                    return string.Join('\n', elements);
                default:
                    throw new IOException($"Redis sent a reply this reader does not understand: '{line}'.");
            }
        }

        private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
        {
            var line = new List<byte>();
            while (true)
            {
                if (_start == _end)
                {
                    await FillAsync(cancellationToken);
                }

                byte b = _buffer[_start++];
                if (b == (byte)'\n' && line.Count > 0 && line[^1] == (byte)'\r')
                {
                    return Encoding.UTF8.GetString([.. line[..^1]]);
                }

                line.Add(b);
            }
        }

        private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            byte[] result = new byte[count];
            int read = 0;
            while (read < count)
            {
                if (_start == _end)
                {
                    await FillAsync(cancellationToken);
                }

                int take = Math.Min(count - read, _end - _start);
                Array.Copy(_buffer, _start, result, read, take);
                _start += take;
                read += take;
            }

            return result;
        }

        private async Task FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            if (_end == 0)
            {
                throw new IOException("Redis closed the connection before the reply ended.");
            }
        }
    }
}
