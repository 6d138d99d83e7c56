using ConsistentHashing.LoadBalancing;

namespace BuildingBlocks.Samples.Tests.LoadBalancing;

/// <summary>Runs the demo once (4 servers, 2,000 requests, 500 ids) and checks what it measured from the raw owners.</summary>
public sealed class LoadBalancingDemoRun : IAsyncLifetime
{
    public LoadBalancingResult Result { get; private set; } = null!;

    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        using var output = new StringWriter();
        Result = await new LoadBalancingDemo().RunAsync(output, TestContext.Current.CancellationToken);
        Output = output.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class LoadBalancingDemoTests(LoadBalancingDemoRun run) : IClassFixture<LoadBalancingDemoRun>
{
    private const string RemovedServer = "server-2";
    private const string AddedServer = "server-5";

    private LoadBalancingResult Result => run.Result;

    [Fact]
    public void RunAsync_WithDefaults_ReportsNoViolations()
    {
        Assert.True(Result.Succeeded, string.Join(Environment.NewLine, Result.Violations));
        Assert.Contains("All invariants hold", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_EveryRound_SendsEveryIdAndAnswersEachFromOneServer()
    {
        foreach (RoundReport round in new[] { Result.Initial, Result.AfterRemoval, Result.AfterAddition })
        {
            Assert.Equal(2_000, round.Requests);
            Assert.Equal(500, round.Owners.Count);
            Assert.Equal(0, round.SplitIds);
            Assert.All(round.Owners.Values, server => Assert.Contains(server, round.Members));
        }

        Assert.Equal(["server-1", "server-2", "server-3", "server-4"], Result.Initial.Members);
        Assert.Equal(["server-1", "server-3", "server-4"], Result.AfterRemoval.Members);
        Assert.Equal(["server-1", "server-3", "server-4", "server-5"], Result.AfterAddition.Members);
    }

    [Fact]
    public void RunAsync_WhenServerRemoved_OnlyRemovedServersIdsMove()
    {
        IReadOnlyDictionary<string, string> before = Result.Initial.Owners;
        IReadOnlyDictionary<string, string> after = Result.AfterRemoval.Owners;
        string[] moved = [.. before.Keys.Where(id => before[id] != after[id])];
        string[] ownedByRemoved = [.. before.Keys.Where(id => before[id] == RemovedServer)];

        Assert.NotEmpty(ownedByRemoved);
        Assert.Equal(ownedByRemoved.Order(StringComparer.Ordinal), moved.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(RemovedServer, after.Values);
        Assert.Empty(Result.Removal.StrayMoves);
        Assert.Equal(moved.Length, Result.Removal.MovedIds);
        Assert.Equal(RemovedServer, Result.Removal.Server);
    }

    [Fact]
    public void RunAsync_WhenServerAdded_AllMovedIdsGoToNewServer()
    {
        IReadOnlyDictionary<string, string> before = Result.AfterRemoval.Owners;
        IReadOnlyDictionary<string, string> after = Result.AfterAddition.Owners;
        string[] moved = [.. before.Keys.Where(id => before[id] != after[id])];
        string[] ownedByAdded = [.. after.Keys.Where(id => after[id] == AddedServer)];

        Assert.NotEmpty(moved);
        Assert.All(moved, id => Assert.Equal(AddedServer, after[id]));
        Assert.Equal(ownedByAdded.Order(StringComparer.Ordinal), moved.Order(StringComparer.Ordinal));
        Assert.Empty(Result.Addition.StrayMoves);
        Assert.Equal(moved.Length, Result.Addition.MovedTo[AddedServer]);
    }

    [Fact]
    public void RunAsync_MembershipChanges_MoveAboutOneNthOfTheIds()
    {
        // 500 ids and 160 virtual nodes: the moved share lands well within ±40% of the ideal 1/4 (the run is deterministic).
        Assert.Equal(0.25, Result.Removal.IdealFraction);
        Assert.Equal(0.25, Result.Addition.IdealFraction);
        Assert.InRange(Result.Removal.MovedFraction, 0.15, 0.35);
        Assert.InRange(Result.Addition.MovedFraction, 0.15, 0.35);
    }

    [Fact]
    public void RunAsync_AfterEachChange_OnlyMovedIdsMissTheCache()
    {
        // Each id that stays on its server hits that server's cache on every request; a moved id misses exactly once.
        Assert.Equal(2_000 - 500, Result.Initial.Servers.Sum(s => s.CacheHits));
        Assert.Equal(2_000 - Result.Removal.MovedIds, Result.AfterRemoval.Servers.Sum(s => s.CacheHits));
        Assert.Equal(2_000 - Result.Addition.MovedIds, Result.AfterAddition.Servers.Sum(s => s.CacheHits));
    }
}
