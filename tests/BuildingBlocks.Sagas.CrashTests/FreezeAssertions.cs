namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>What every freeze scenario must show once all its sagas ended.</summary>
internal static class FreezeAssertions
{
    public static async Task AssertSoundAsync(FreezeScenario scenario, CrashTarget target, string ledger, CancellationToken cancellationToken)
    {
        SagaOutcomeChecker outcome = await SagaOutcomeChecker.CheckAsync(target.Store, ledger, scenario.SagaCount, cancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(scenario.Summary());
        TestContext.Current.TestOutputHelper?.WriteLine(outcome.Summary());
        string context = $"{scenario.Summary()}{Environment.NewLine}";
        Assert.True(outcome.Problems.Count == 0, context + outcome.Describe());
        Assert.True(scenario.TakenOver > 0, $"No saga was taken over from a frozen coordinator. {context}");

        Assert.True(scenario.Failures.Count == 0, $"{context}{string.Join(Environment.NewLine, scenario.Failures.Take(20))}");
        // The frozen coordinators did try to write with their old tokens after the thaw, and the store said no each time
        // (had one got in, its history line would carry a lower token after the taker's lines: the checker above).
        Assert.True(scenario.StaleWritesRefused > 0, $"No thawed coordinator tried a stale checkpoint: the scenario did not test fencing. {context}");
        Assert.True(scenario.MissingLeaseLost.Count == 0, $"A refused checkpoint was not followed by a LeaseLost log (4005) for its saga: {string.Join(", ", scenario.MissingLeaseLost)}. {context}");
    }
}
