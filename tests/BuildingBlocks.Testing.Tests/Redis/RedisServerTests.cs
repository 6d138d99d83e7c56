using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BuildingBlocks.Testing.Tests.Redis;

/// <summary>Servers of their own: start, answer, stop and start again, crash, dispose, missing binary.</summary>
public sealed class RedisServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartAsync_AnswersPingOverARawSocket()
    {
        await using RedisServer server = await RedisServer.StartAsync(Ct);

        // No helper of the server involved: the RESP bytes by hand.
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(IPAddress.Loopback, server.Port, Ct);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), Ct);
        byte[] reply = new byte[7];
        await stream.ReadExactlyAsync(reply, Ct);

        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(reply));
        Assert.True(server.IsRunning);
        Assert.NotNull(server.ProcessId);
        Assert.Equal($"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}", server.ConnectionString);
        Assert.True(Directory.Exists(server.DirectoryPath));
    }

    [Fact]
    public async Task StartAsync_RunsWithoutPersistenceOnLoopbackInItsDirectory()
    {
        await using RedisServer server = await RedisServer.StartAsync(Ct);

        Assert.Equal("save\n", await server.ExecuteAsync(["CONFIG", "GET", "save"], Ct));
        Assert.Equal("appendonly\nno", await server.ExecuteAsync(["CONFIG", "GET", "appendonly"], Ct));
        Assert.Equal("bind\n127.0.0.1", await server.ExecuteAsync(["CONFIG", "GET", "bind"], Ct));
        Assert.Equal($"dir\n{server.DirectoryPath}", await server.ExecuteAsync(["CONFIG", "GET", "dir"], Ct));
        Assert.Equal("OK", await server.ExecuteAsync(["SET", "greeting", "héllo"], Ct));
        Assert.Equal("héllo", await server.ExecuteAsync(["GET", "greeting"], Ct));
        Assert.Null(await server.ExecuteAsync(["GET", "missing"], Ct));
        Assert.Equal("1", await server.ExecuteAsync(["EXISTS", "greeting"], Ct));
    }

    [Fact]
    public async Task ExecuteAsync_WhenTheServerAnswersAnError_ThrowsWithIt()
    {
        await using RedisServer server = await RedisServer.StartAsync(Ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => server.ExecuteAsync(["NO-SUCH-COMMAND"], Ct));

        Assert.Contains("unknown command", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task StopAsync_ThenStartAgainAsync_ServesOnTheSamePortWithAnEmptyDataSet()
    {
        await using RedisServer server = await RedisServer.StartAsync(Ct);
        Assert.Equal("OK", await server.ExecuteAsync(["SET", "before-restart", "1"], Ct));
        int port = server.Port;
        int pid = server.ProcessId!.Value;

        await server.StopAsync(Ct);

        Assert.False(server.IsRunning);
        Assert.Null(server.ProcessId);
        Assert.False(await server.PingAsync(Ct));
        await Assert.ThrowsAnyAsync<SocketException>(() => server.ExecuteAsync(["PING"], Ct));
        Assert.False(IsAlive(pid));

        await server.StartAgainAsync(Ct);

        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        Assert.NotEqual(pid, server.ProcessId);
        Assert.True(await server.PingAsync(Ct));
        Assert.Null(await server.ExecuteAsync(["GET", "before-restart"], Ct));
    }

    [Fact]
    public async Task KillAsync_EndsTheProcessAtOnce_AndStartAgainAsyncServesAgain()
    {
        await using RedisServer server = await RedisServer.StartAsync(Ct);
        int pid = server.ProcessId!.Value;

        await server.KillAsync(Ct);

        Assert.False(server.IsRunning);
        Assert.False(IsAlive(pid));
        Assert.False(await server.PingAsync(Ct));
        Assert.DoesNotContain("ready to exit", server.ReadLogTail(200), StringComparison.OrdinalIgnoreCase);

        await server.StartAgainAsync(Ct);

        Assert.True(await server.PingAsync(Ct));
    }

    [Fact]
    public async Task StopAsync_LogsAnOrderlyShutdown()
    {
        await using RedisServer server = await RedisServer.StartAsync(Ct);

        await server.StopAsync(Ct);

        Assert.Contains("ready to exit", server.ReadLogTail(200), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task StartAgainAsync_WhileRunning_Throws()
    {
        await using RedisServer server = await RedisServer.StartAsync(Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAgainAsync(Ct));
        Assert.True(await server.PingAsync(Ct));
    }

    [Fact]
    public async Task DisposeAsync_KillsTheServerAndRemovesTheDirectory()
    {
        RedisServer server = await RedisServer.StartAsync(Ct);
        string directory = server.DirectoryPath;
        int pid = server.ProcessId!.Value;

        await server.DisposeAsync();

        Assert.False(Directory.Exists(directory));
        Assert.False(server.IsRunning);
        Assert.False(IsAlive(pid));
        Assert.False(await server.PingAsync(Ct));
    }

    [Fact]
    public void FindServer_WhenMissing_ThrowsWithTheInstallCommandAndTestScript()
    {
        using var empty = new TempDirectory("bb-redis-missing");

        var error = Assert.Throws<InvalidOperationException>(() => RedisServer.FindServer(empty.Path, [empty.File("nothing-here")]));

        Assert.Contains("redis-server", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y redis-server", error.Message, StringComparison.Ordinal);
        Assert.Contains("eng/test.sh", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindServer_PrefersPath_ThenTheFallbackDirectories()
    {
        using var root = new TempDirectory("bb-redis-find");
        string onPath = CreateServer(root.File("on-path"));
        string fallback = CreateServer(root.File("fallback"));

        Assert.Equal(Path.Combine(onPath, "redis-server"), RedisServer.FindServer($"{root.File("nothing-here")}{Path.PathSeparator}{onPath}", [fallback]));
        Assert.Equal(Path.Combine(fallback, "redis-server"), RedisServer.FindServer(root.File("nothing-here"), [root.File("neither-here"), fallback]));
    }

    private static string CreateServer(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "redis-server"), string.Empty);
        return directory;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            // "pid (comm) S ...": a zombie (Z) or dead (X) process counts as gone.
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            char state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not 'Z' and not 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
