using Xunit;

namespace BuildingBlocks.Testing;

/// <summary>
/// One real Redis server shared by the test classes of an assembly or a collection: started once before the first
/// test, disposed (killed, directory deleted) after the last.
/// </summary>
/// <remarks>
/// <para>Per assembly (xunit v3): <c>[assembly: AssemblyFixture(typeof(RedisFixture))]</c>, then take a
/// <see cref="RedisFixture"/> in the test class's constructor.</para>
/// <para>Per collection: a <c>[CollectionDefinition("Redis")]</c> class implementing
/// <c>ICollectionFixture&lt;RedisFixture&gt;</c> in the test project, and <c>[Collection("Redis")]</c> on the test
/// classes.</para>
/// <para>The server is shared, so tests must not stop or kill it, and should keep to keys and channels of their own
/// (a unique prefix per test): a test of an outage or a restart starts its own <see cref="RedisServer"/>.</para>
/// </remarks>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    /// <summary>The shared server.</summary>
    /// <exception cref="InvalidOperationException">xunit has not initialized the fixture.</exception>
    public RedisServer Server => _server ?? throw new InvalidOperationException($"{nameof(RedisFixture)} is not initialized; xunit initializes it before the first test that uses it.");

    /// <summary>The StackExchange.Redis configuration string of the shared server (see <see cref="RedisServer.ConnectionString"/>).</summary>
    public string ConnectionString => Server.ConnectionString;

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _server = await RedisServer.StartAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
