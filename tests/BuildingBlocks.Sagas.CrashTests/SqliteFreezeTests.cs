using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>A coordinator frozen (SIGSTOP) while it holds sagas mid-step, taken over by another process on the same SQLite file, then thawed (see <see cref="FreezeScenario"/>).</summary>
[Collection(CrashTestGroup.Name)]
public sealed class SqliteFreezeTests
{
    [Fact]
    public async Task FrozenCoordinator_ThawedAfterTakeover_EveryStaleCheckpointIsRefusedAndEverySagaEndsAsPlanned()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("bb-saga-freeze-sqlite");
        string ledger = directory.File("ledger.db");
        await using CrashTarget target = CrashTarget.Sqlite(directory.File("sagas.db"));

        var scenario = new FreezeScenario(target, ledger, new FreezeSettings { Seed = CrashSettings.Seed(), MinCycles = CrashSettings.FreezeCycles(2) });
        await scenario.RunAsync(cancellationToken);
        await FreezeAssertions.AssertSoundAsync(scenario, target, ledger, cancellationToken);
    }
}
