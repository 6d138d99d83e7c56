namespace ConsistentHashing.LoadBalancing;

/// <summary>A backend server as the ring sees it: its stable name (the ring key) and where it listens.</summary>
/// <param name="Name">The server's stable name; the ring derives the server's positions from it.</param>
/// <param name="Uri">The base address, for example <c>http://127.0.0.1:51234/</c>.</param>
public sealed record ServerEndpoint(string Name, Uri Uri);
