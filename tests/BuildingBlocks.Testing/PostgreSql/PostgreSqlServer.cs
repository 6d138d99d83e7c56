using System.Globalization;
using System.Text;
using Npgsql;

namespace BuildingBlocks.Testing;

/// <summary>
/// A real, throwaway PostgreSQL server for tests: <c>initdb</c> in a fresh temporary directory, a configuration tuned
/// for tests (loopback only, a free port, 200 connections, durability left on), started with <c>pg_ctl</c>. Tests create
/// one database each with <see cref="CreateDatabaseAsync"/>, and may stop, restart or crash the server
/// (<see cref="StopAsync"/>, <see cref="StartAgainAsync"/>, <see cref="KillAsync"/>). Disposing stops it and deletes
/// the directory.
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root, so as root <c>initdb</c> and <c>pg_ctl</c> run as the <c>postgres</c> user
/// (<c>runuser -u postgres --</c>), which owns the temporary directory. The binaries come from <c>PATH</c>, else from
/// the newest <c>/usr/lib/postgresql/*/bin</c> (where Debian installs them); when neither has them,
/// <see cref="StartAsync"/> throws an <see cref="InvalidOperationException"/> that names <see cref="InstallCommand"/>.
/// </remarks>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    /// <summary>The command that installs the server binaries on Debian and Ubuntu.</summary>
    public const string InstallCommand = "apt-get install -y postgresql";

    /// <summary>The operating-system user the server runs as when the tests run as root, and the database superuser.</summary>
    public const string SuperUser = "postgres";

    internal const string DefaultLibraryRoot = "/usr/lib/postgresql";

    private const int StartAttempts = 3;
    private const int LogLinesInErrors = 40;

    // pg_ctl gets its own -t limit; the process limits are a little longer so pg_ctl reports first.
    private static readonly TimeSpan InitDbTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PgCtlStartWait = TimeSpan.FromSeconds(55);
    private static readonly TimeSpan StartProcessTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PgCtlStopWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopProcessTimeout = TimeSpan.FromSeconds(35);
    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ProcessesGoneTimeout = TimeSpan.FromSeconds(10);

    private readonly bool _runAsSuperUser;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _databasesGate = new();
    private readonly List<string> _databaseConnectionStrings = [];
    private string _initDbConfiguration = string.Empty;
    private int _postmasterPid;
    private bool _running;
    private int _disposed;

    private PostgreSqlServer(string directoryPath, string binDirectory, bool runAsSuperUser)
    {
        DirectoryPath = directoryPath;
        BinDirectory = binDirectory;
        _runAsSuperUser = runAsSuperUser;
        ConnectionString = string.Empty;
    }

    /// <summary>The loopback TCP port the server listens on (the same after <see cref="StartAgainAsync"/>).</summary>
    public int Port { get; private set; }

    /// <summary>
    /// The connection string of the <c>postgres</c> database as the <c>postgres</c> superuser on 127.0.0.1, pooling on.
    /// Tests should work in their own database from <see cref="CreateDatabaseAsync"/>.
    /// </summary>
    public string ConnectionString { get; private set; }

    /// <summary>The temporary directory: <c>data/</c>, the log file and the Unix socket. Deleted on dispose.</summary>
    public string DirectoryPath { get; }

    /// <summary>The data directory (<c>PGDATA</c>) inside <see cref="DirectoryPath"/>.</summary>
    public string DataDirectory => Path.Combine(DirectoryPath, "data");

    /// <summary>The server log file (<c>pg_ctl -l</c>) inside <see cref="DirectoryPath"/>.</summary>
    public string LogFilePath => Path.Combine(DirectoryPath, "postgresql.log");

    /// <summary>The directory holding the <c>initdb</c> and <c>pg_ctl</c> that run this server.</summary>
    public string BinDirectory { get; }

    /// <summary>Whether the server runs (started and not stopped, killed or disposed since).</summary>
    public bool IsRunning => Volatile.Read(ref _running);

    /// <summary>
    /// Creates a temporary directory, runs <c>initdb</c>, writes the test configuration and starts the server on a free
    /// loopback port (another port is tried when the chosen one was taken in the meantime).
    /// </summary>
    /// <param name="cancellationToken">Cancels the start; the directory is removed.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException">
    /// The binaries are missing (the message names <see cref="InstallCommand"/>), or <c>initdb</c> or the start failed
    /// (the message holds the tool's output and the last lines of the server log).
    /// </exception>
    /// <exception cref="TimeoutException"><c>initdb</c> or <c>pg_ctl</c> did not finish in time.</exception>
    public static async Task<PostgreSqlServer> StartAsync(CancellationToken cancellationToken = default)
    {
        string binDirectory = FindBinDirectory(Environment.GetEnvironmentVariable("PATH"), DefaultLibraryRoot);
        bool runAsSuperUser = IsRoot();
        if (runAsSuperUser && !UserExists(SuperUser))
        {
            throw new InvalidOperationException(
                $"The tests run as root and PostgreSQL refuses to run as root, so the server runs as the '{SuperUser}' user, which does not exist. The Debian package creates it: {InstallCommand}");
        }

        var server = new PostgreSqlServer(CreateTempDirectoryPath(), binDirectory, runAsSuperUser);
        try
        {
            await server.PrepareDirectoryAsync(cancellationToken);
            await server.InitDbAsync(cancellationToken);
            for (int attempt = 1; ; attempt++)
            {
                server.WriteConfiguration(LoopbackPort.GetFree());
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

    /// <summary>
    /// Creates a database (from <c>template0</c>) and returns its connection string, pooling on. Each test works in a
    /// database of its own, so tests sharing one server do not see each other's tables.
    /// </summary>
    /// <param name="name">The database name (letters, digits and underscores, at most 63), or <see langword="null"/> for a fresh unique name.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The new database's connection string.</returns>
    /// <exception cref="ArgumentException">The name is not a plain identifier.</exception>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        string database = name ?? $"test_{Guid.NewGuid():N}";
        if (!IsPlainIdentifier(database))
        {
            throw new ArgumentException($"'{database}' is not a plain database name: use letters, digits and underscores (at most 63, not starting with a digit).", nameof(name));
        }

        // An unpooled connection: after a restart or a kill a pooled one would be dead.
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 15, CommandTimeout = 60 };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE \"{database}\" TEMPLATE template0";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        string connectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;
        lock (_databasesGate)
        {
            _databaseConnectionStrings.Add(connectionString);
        }

        return connectionString;
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl stop -m fast</c>: open connections are terminated, committed data is kept).
    /// Does nothing when it is not running.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes once the server has stopped.</returns>
    /// <exception cref="InvalidOperationException">pg_ctl failed; the message holds its output and the log's last lines.</exception>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_running)
            {
                await StopCoreAsync("fast", cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts the server again after <see cref="StopAsync"/> or <see cref="KillAsync"/>, on the same port and data
    /// directory (after a kill PostgreSQL runs crash recovery first). Clients keep their connection strings.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes once the server accepts connections.</returns>
    /// <exception cref="InvalidOperationException">It already runs, or the start failed (the message holds the log's last lines).</exception>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_running)
            {
                throw new InvalidOperationException($"The PostgreSQL server on port {Port} already runs; stop or kill it first.");
            }

            await StartCoreAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Simulates a crash: SIGKILL to the postmaster and every backend at once (its whole process group), no shutdown
    /// code runs. <see cref="StartAgainAsync"/> then recovers from the write-ahead log. Does nothing when it is not running.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for the processes to end.</param>
    /// <returns>A task that completes once every server process has ended.</returns>
    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_running)
            {
                await KillCoreAsync(cancellationToken);
            }
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

    /// <summary>Stops the server at once (<c>pg_ctl stop -m immediate</c>, or SIGKILL if that fails) and deletes the directory.</summary>
    /// <returns>A task that completes once the server is gone and the directory deleted.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            if (_running)
            {
                try
                {
                    await StopCoreAsync("immediate", CancellationToken.None);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    await KillCoreAsync(CancellationToken.None);
                }
            }
            else if (ReadPostmasterPid() is int pid && IsAlive(pid))
            {
                // A start that failed or was cancelled half-way may have left a postmaster behind.
                _postmasterPid = pid;
                await KillCoreAsync(CancellationToken.None);
            }
        }
        finally
        {
            _gate.Release();
        }

        ClearPools();
        await DeleteDirectoryAsync();
        _gate.Dispose();
    }

    /// <summary>The directory holding <c>initdb</c> and <c>pg_ctl</c>: the first on <paramref name="pathVariable"/>, else the newest <c>&lt;libraryRoot&gt;/&lt;version&gt;/bin</c>.</summary>
    /// <param name="pathVariable">The <c>PATH</c> value to search.</param>
    /// <param name="libraryRoot">Where the versioned installations live (<c>/usr/lib/postgresql</c> on Debian).</param>
    /// <returns>The directory.</returns>
    /// <exception cref="InvalidOperationException">Neither has them; the message names <see cref="InstallCommand"/>.</exception>
    internal static string FindBinDirectory(string? pathVariable, string libraryRoot)
    {
        foreach (string directory in (pathVariable ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (HasServerTools(directory))
            {
                return directory;
            }
        }

        if (Directory.Exists(libraryRoot))
        {
            string? newest = Directory.EnumerateDirectories(libraryRoot)
                .Select(directory => (Bin: Path.Combine(directory, "bin"), Version: ParseVersion(Path.GetFileName(directory))))
                .Where(candidate => candidate.Version is not null && HasServerTools(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        throw new InvalidOperationException(
            $"The PostgreSQL server binaries (initdb, pg_ctl) are not on PATH nor in {libraryRoot}/*/bin. Tests that need PostgreSQL start a real server; install it with: {InstallCommand} (./eng/test.sh installs it when missing).");
    }

    private static bool HasServerTools(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out Version? version) ? version : null;

    private static bool IsPlainIdentifier(string name) =>
        name.Length is > 0 and <= 63
        && !char.IsAsciiDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static bool IsRoot()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/proc/self/status"))
        {
            // "Uid:\t<real>\t<effective>\t<saved>\t<filesystem>"
            string? uids = File.ReadLines("/proc/self/status").FirstOrDefault(line => line.StartsWith("Uid:", StringComparison.Ordinal));
            string[]? fields = uids?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields is { Length: >= 3 })
            {
                return fields[2] == "0";
            }
        }

        return Environment.UserName == "root";
    }

    private static bool UserExists(string user) =>
        File.Exists("/etc/passwd") && File.ReadLines("/etc/passwd").Any(line => line.StartsWith(user + ":", StringComparison.Ordinal));

    private static string CreateTempDirectoryPath()
    {
        string name = $"bb-pg-{Guid.NewGuid():N}";
        string path = Path.Combine(Path.GetTempPath(), name);

        // The Unix socket lives here and socket paths are limited to 107 bytes.
        return Path.Combine(path, ".s.PGSQL.65535.lock").Length <= 100 ? path : Path.Combine("/tmp", name);
    }

    private static string FindProgram(string name, params string[] candidates) => candidates.FirstOrDefault(File.Exists) ?? name;

    private static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            // A zombie (Z) or dead (X) process holds no files and no memory: it counts as gone.
            return ReadProcState(pid) is { } state && state is not 'Z' and not 'X';
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The state letter and process group of a process from /proc/&lt;pid&gt;/stat, or null when it is gone.</summary>
    private static char? ReadProcState(int pid) => ReadProcStat(pid)?.State;

    private static (char State, int ProcessGroup)? ReadProcStat(int pid)
    {
        try
        {
            // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return (fields[0][0], int.Parse(fields[2], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static IEnumerable<int> AllProcessIds() =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : 0)
            .Where(pid => pid > 0);

    private async Task PrepareDirectoryAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("PostgreSqlServer runs the Unix server tools (initdb, pg_ctl, runuser); run these tests on Linux or macOS.");
        }

        Directory.CreateDirectory(DirectoryPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!_runAsSuperUser)
        {
            return;
        }

        // The postgres user must own the directory (initdb creates data/ in it, pg_ctl writes the log and the socket)
        // and must be able to reach it: every parent needs the execute bit for others (/tmp has it; a TMPDIR under
        // /root does not).
        await RunAsync(FindProgram("chown", "/usr/bin/chown", "/bin/chown"), [$"{SuperUser}:", DirectoryPath], HelperTimeout, "chown", cancellationToken);
        for (DirectoryInfo? parent = Directory.GetParent(DirectoryPath); parent is not null; parent = parent.Parent)
        {
            UnixFileMode mode = File.GetUnixFileMode(parent.FullName);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                File.SetUnixFileMode(parent.FullName, mode | UnixFileMode.OtherExecute);
            }
        }
    }

    private async Task InitDbAsync(CancellationToken cancellationToken)
    {
        // --no-sync: a throwaway cluster need not be flushed to disk at creation; the server itself keeps fsync on.
        await RunToolAsync(
            "initdb",
            ["-D", DataDirectory, "-A", "trust", "-U", SuperUser, "--encoding", "UTF8", "--no-locale", "--no-sync"],
            InitDbTimeout,
            cancellationToken);
        _initDbConfiguration = await File.ReadAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), cancellationToken);
    }

    private void WriteConfiguration(int port)
    {
        string socketDirectory = DirectoryPath.Replace("'", "''", StringComparison.Ordinal);
        string settings = $"""

            #------------------------------------------------------------------------------
            # BuildingBlocks.Testing.PostgreSqlServer: a throwaway server for tests (these lines override the ones above).
            #------------------------------------------------------------------------------
            listen_addresses = '127.0.0.1'
            port = {port.ToString(CultureInfo.InvariantCulture)}
            unix_socket_directories = '{socketDirectory}'
            max_connections = 200
            shared_buffers = 128MB
            # Durability as in production: restart and crash tests rely on committed data surviving.
            fsync = on
            synchronous_commit = on
            full_page_writes = on
            timezone = 'UTC'
            log_timezone = 'UTC'
            log_line_prefix = '%m [%p] %q%u@%d '

            """;

        // Written in place, so as root the file keeps its owner (postgres).
        File.WriteAllText(Path.Combine(DataDirectory, "postgresql.conf"), _initDbConfiguration + settings);
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = SuperUser,
            Database = "postgres",
            Pooling = true,
        }.ConnectionString;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        string output = await RunToolAsync(
            "pg_ctl",
            ["-w", "-t", Seconds(PgCtlStartWait), "-D", DataDirectory, "-l", LogFilePath, "start"],
            StartProcessTimeout,
            cancellationToken);
        _postmasterPid = ReadPostmasterPid()
            ?? throw new InvalidOperationException($"pg_ctl reported a start but {DataDirectory}/postmaster.pid holds no process id.{Environment.NewLine}{output}{LogSection()}");
        Volatile.Write(ref _running, true);
    }

    private async Task StopCoreAsync(string mode, CancellationToken cancellationToken)
    {
        await RunToolAsync("pg_ctl", ["-w", "-t", Seconds(PgCtlStopWait), "-D", DataDirectory, "-m", mode, "stop"], StopProcessTimeout, cancellationToken);
        Volatile.Write(ref _running, false);
    }

    private async Task KillCoreAsync(CancellationToken cancellationToken)
    {
        int pid = _postmasterPid;
        Volatile.Write(ref _running, false);
        if (pid <= 0)
        {
            return;
        }

        // pg_ctl starts the postmaster in a session of its own (setsid), and every backend it forks stays in its
        // process group: one kill of the group takes them all at once, as a crash of the machine would.
        int processGroup = OperatingSystem.IsLinux() ? ReadProcStat(pid)?.ProcessGroup ?? pid : pid;
        string target = processGroup == pid ? $"-{pid.ToString(CultureInfo.InvariantCulture)}" : pid.ToString(CultureInfo.InvariantCulture);
        await RunAsync(FindProgram("kill", "/usr/bin/kill", "/bin/kill"), ["-KILL", "--", target], HelperTimeout, "kill", cancellationToken, allowFailure: true);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ProcessesGoneTimeout);
        while (OperatingSystem.IsLinux()
            ? AllProcessIds().Any(p => ReadProcStat(p) is { } stat && stat.ProcessGroup == processGroup && stat.State is not 'Z' and not 'X')
            : IsAlive(pid))
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The PostgreSQL processes (group {processGroup}) still run {ProcessesGoneTimeout} after SIGKILL.");
            }
        }

        // A real crash leaves postmaster.pid and the socket lock behind and the next postmaster ignores them when their
        // process is gone. Where nothing reaps orphans (a container whose init does not), the killed postmaster stays
        // a zombie whose pid still "exists", and the next start would refuse to run; the files go, recovery is unchanged.
        DeleteFile(Path.Combine(DataDirectory, "postmaster.pid"));
        DeleteFile(Path.Combine(DirectoryPath, $".s.PGSQL.{Port.ToString(CultureInfo.InvariantCulture)}.lock"));
        _postmasterPid = 0;
    }

    private int? ReadPostmasterPid()
    {
        try
        {
            string? first = File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
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
            string text = reader.ReadToEnd();
            return text.Contains("could not bind", StringComparison.Ordinal) || text.Contains("Address already in use", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Runs one of the server's tools (as the postgres user when the tests run as root) and returns its output.</summary>
    private Task<string> RunToolAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string program = Path.Combine(BinDirectory, tool);
        return _runAsSuperUser
            ? RunAsync(FindProgram("runuser", "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"), ["-u", SuperUser, "--", program, .. arguments], timeout, tool, cancellationToken)
            : RunAsync(program, arguments, timeout, tool, cancellationToken);
    }

    private async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, TimeSpan timeout, string what, CancellationToken cancellationToken, bool allowFailure = false)
    {
        var environment = new Dictionary<string, string?>
        {
            // English messages in the log and the output; no inherited server settings.
            ["LC_ALL"] = "C",
            ["LANG"] = "C",
            ["PGDATA"] = null,
            ["PGPORT"] = null,
            ["PGHOST"] = null,
        };
        await using ChildProcess child = ChildProcess.Start(program, arguments, DirectoryPath, environment);
        int exitCode;
        try
        {
            exitCode = await child.WaitForExitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException e)
        {
            // Disposing the child kills it and what it started (a postmaster still starting up included).
            throw new TimeoutException($"{what} did not finish within {timeout}.{Environment.NewLine}{e.Message}{LogSection()}", e);
        }

        string output = child.Describe();
        if (exitCode != 0 && !allowFailure)
        {
            throw new InvalidOperationException($"{what} failed with exit code {exitCode.ToString(CultureInfo.InvariantCulture)}.{Environment.NewLine}{output}{LogSection()}");
        }

        return output;
    }

    private string LogSection() =>
        File.Exists(LogFilePath)
            ? $"{Environment.NewLine}--- last {LogLinesInErrors.ToString(CultureInfo.InvariantCulture)} lines of {LogFilePath} ---{Environment.NewLine}{ReadLogTail()}"
            : string.Empty;

    private void ClearPools()
    {
        List<string> connectionStrings;
        lock (_databasesGate)
        {
            connectionStrings = [ConnectionString, .. _databaseConnectionStrings];
        }

        foreach (string connectionString in connectionStrings.Where(c => c.Length > 0))
        {
            using var connection = new NpgsqlConnection(connectionString);
            NpgsqlConnection.ClearPool(connection);
        }
    }

    private async Task DeleteDirectoryAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(DirectoryPath))
                {
                    Directory.Delete(DirectoryPath, recursive: true);
                }

                return;
            }
            catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && attempt < 10)
            {
                // A process that just ended may still be closing a file.
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private static void DeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static string Seconds(TimeSpan time) => ((int)time.TotalSeconds).ToString(CultureInfo.InvariantCulture);
}
