using BuildingBlocks.Testing;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>A coordinator frozen (SIGSTOP) while it holds sagas mid-step, taken over by another, then thawed (see <see cref="FreezeScenario"/>).</summary>
[Collection(CrashTestGroup.Name)]
public sealed class PostgreSqlFreezeTests(PostgreSqlFixture postgres)
{
    [Fact]
    public async Task FrozenCoordinator_ThawedAfterTakeover_EveryStaleCheckpointIsRefusedAndEverySagaEndsAsPlanned()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("bb-saga-freeze-pg");
        string ledger = directory.File("ledger.db");
        string connectionString = await postgres.CreateDatabaseAsync(cancellationToken: cancellationToken);
        await using CrashTarget target = await CrashTarget.PostgreSqlAsync(connectionString, "sagas", cancellationToken);

        var scenario = new FreezeScenario(target, ledger, new FreezeSettings { Seed = CrashSettings.Seed(), MinCycles = CrashSettings.FreezeCycles(2) });
        await scenario.RunAsync(cancellationToken);
        await FreezeAssertions.AssertSoundAsync(scenario, target, ledger, cancellationToken);
    }
}
