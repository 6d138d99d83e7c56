using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>
/// Crash tests start several processes each: they run one at a time so two of them never compete for the cores, and
/// share one PostgreSQL server (each test takes a database of its own).
/// </summary>
[CollectionDefinition(Name)]
public sealed class CrashTestGroup : ICollectionFixture<PostgreSqlFixture>
{
    public const string Name = "Saga crash tests";
}
