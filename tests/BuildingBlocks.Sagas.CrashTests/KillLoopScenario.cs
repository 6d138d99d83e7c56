using BuildingBlocks.Sagas.CrashHost;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>One kill loop on a store, then the checks: the same scenario for every store.</summary>
internal static class KillLoopScenario
{
    /// <summary>The suite's adding window; SAGAS_SOAK_SECONDS replaces it for a soak.</summary>
    public static readonly TimeSpan SuiteAddWindow = TimeSpan.FromSeconds(14);

    public static async Task RunAsync(CrashTarget target, string ledger, CancellationToken cancellationToken)
    {
        Ledger.Create(ledger);
        var settings = new KillLoopSettings { Seed = CrashSettings.Seed(), AddWindow = CrashSettings.AddWindow(SuiteAddWindow) };
        var loop = new KillLoop(target, ledger, settings);
        await loop.RunAsync(cancellationToken);

        SagaOutcomeChecker outcome = await SagaOutcomeChecker.CheckAsync(target.Store, ledger, loop.SagaCount, cancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(loop.Summary());
        TestContext.Current.TestOutputHelper?.WriteLine(outcome.Summary());
        KillLoopAssertions.AssertSound(loop, outcome);
    }
}
