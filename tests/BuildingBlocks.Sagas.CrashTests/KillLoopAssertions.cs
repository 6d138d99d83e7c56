namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>What every kill loop must show once its final run finished.</summary>
internal static class KillLoopAssertions
{
    /// <summary>Runs killed at least this often (six cycles of two), or the loop did not test much.</summary>
    public const int MinKills = 12;

    public static void AssertSound(KillLoop loop, SagaOutcomeChecker outcome)
    {
        string context = $"{loop.Summary()}{Environment.NewLine}";
        Assert.True(outcome.Problems.Count == 0, context + outcome.Describe());
        Assert.True(loop.Kills >= MinKills, $"Only {loop.Kills} runs were killed. {context}");

        // The honest negative: the kills did land between a service call and its checkpoint, so the step ran again and
        // called again. Without the idempotency key each of these calls would have taken effect a second time.
        Assert.True(outcome.RepeatedCalls > 0, $"No ledger call was repeated: no kill landed between a step's effect and its checkpoint, so the keys were never put to the test. {context}{outcome.Summary()}");

        // The sagas never went further than their plans, and the kills did not make any store call fail.
        Assert.DoesNotContain(loop.Notes, n => n.StartsWith("SUSPENDED", StringComparison.Ordinal) || n.StartsWith("CHECKPOINT FAILED", StringComparison.Ordinal));
    }
}
