using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>Coordinators on a PostgreSQL store killed with SIGKILL over and over (see <see cref="KillLoop"/> and <see cref="SagaOutcomeChecker"/>).</summary>
[Collection(CrashTestGroup.Name)]
public sealed class PostgreSqlKillLoopTests(PostgreSqlFixture postgres)
{
    [Fact]
    public async Task Coordinators_KilledAtRandomMoments_EverySagaEndsAsPlannedAndEveryEffectCountsOnce()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("bb-saga-crash-pg");
        string connectionString = await postgres.CreateDatabaseAsync(cancellationToken: cancellationToken);
        await using CrashTarget target = await CrashTarget.PostgreSqlAsync(connectionString, "sagas", cancellationToken);
        await KillLoopScenario.RunAsync(target, directory.File("ledger.db"), cancellationToken);
    }
}
