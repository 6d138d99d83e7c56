using Xunit;

namespace BuildingBlocks.Testing;

/// <summary>
/// One real PostgreSQL server shared by the test classes of an assembly or a collection: started once before the first
/// test, disposed (stopped, directory deleted) after the last. Each test takes a database of its own from
/// <see cref="CreateDatabaseAsync"/>.
/// </summary>
/// <remarks>
/// <para>Per assembly (xunit v3): <c>[assembly: AssemblyFixture(typeof(PostgreSqlFixture))]</c>, then take a
/// <see cref="PostgreSqlFixture"/> in the test class's constructor.</para>
/// <para>Per collection: a <c>[CollectionDefinition("PostgreSql")]</c> class implementing
/// <c>ICollectionFixture&lt;PostgreSqlFixture&gt;</c> in the test project, and <c>[Collection("PostgreSql")]</c> on the
/// test classes.</para>
/// <para>The server is shared, so tests must not stop or kill it: a test of a restart or a crash starts its own
/// <see cref="PostgreSqlServer"/>.</para>
/// </remarks>
public sealed class PostgreSqlFixture : IAsyncLifetime
{
    private PostgreSqlServer? _server;

    /// <summary>The shared server.</summary>
    /// <exception cref="InvalidOperationException">xunit has not initialized the fixture.</exception>
    public PostgreSqlServer Server => _server ?? throw new InvalidOperationException($"{nameof(PostgreSqlFixture)} is not initialized; xunit initializes it before the first test that uses it.");

    /// <summary>The connection string of the server's <c>postgres</c> database (see <see cref="PostgreSqlServer.ConnectionString"/>).</summary>
    public string ConnectionString => Server.ConnectionString;

    /// <summary>Creates a fresh database on the shared server and returns its connection string.</summary>
    /// <param name="name">The database name, or <see langword="null"/> for a unique one.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The connection string, pooling on.</returns>
    public Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default) =>
        Server.CreateDatabaseAsync(name, cancellationToken);

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => _server = await PostgreSqlServer.StartAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
