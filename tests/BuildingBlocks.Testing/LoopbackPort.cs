using System.Net;
using System.Net.Sockets;

namespace BuildingBlocks.Testing;

/// <summary>Free TCP ports on 127.0.0.1 for servers that tests start.</summary>
public static class LoopbackPort
{
    /// <summary>Asks the OS for a port that is free now on 127.0.0.1.</summary>
    /// <returns>The port.</returns>
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
