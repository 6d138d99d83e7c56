using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>Coordinators on a SQLite file killed with SIGKILL over and over (see <see cref="KillLoop"/> and <see cref="SagaOutcomeChecker"/>).</summary>
[Collection(CrashTestGroup.Name)]
public sealed class SqliteKillLoopTests
{
    [Fact]
    public async Task Coordinators_KilledAtRandomMoments_EverySagaEndsAsPlannedAndEveryEffectCountsOnce()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("bb-saga-crash-sqlite");
        await using CrashTarget target = CrashTarget.Sqlite(directory.File("sagas.db"));
        await KillLoopScenario.RunAsync(target, directory.File("ledger.db"), cancellationToken);
    }
}
