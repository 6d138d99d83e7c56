using System.Text.RegularExpressions;
using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Diagrams;

public sealed partial class SagaDiagramTests
{
    /// <summary>A trip: a flight, then hotel and car together, then a mail; the car can be refused.</summary>
    private static void Trip(SagaBuilder<TestData> saga, Ledger ledger)
    {
        saga.Step("reserve flight").Execute(ledger.Ok<TestData>()).Compensate(ledger.Ok<TestData>());
        saga.Parallel("stay", p =>
        {
            p.Step("hotel").Execute(ledger.Ok<TestData>()).Compensate(ledger.Ok<TestData>());
            p.Step("car").Execute(ledger.Ok<TestData>());
        });
        saga.Step("charge \"card\"")
            .Execute(ledger.Fails<TestData>(ctx => ctx.Attempt == 1 ? new HttpRequestException("gateway 503") : new PermanentStepFailureException("card declined")))
            .WithRetry(3, r => r.InitialDelay = TimeSpan.Zero)
            .Compensate(ledger.Ok<TestData>());
        saga.Step("mail").Execute(ledger.Ok<TestData>());
    }

    public sealed class TripSaga(Ledger ledger) : SagaDefinition<TestData>
    {
        public override string Name => "trip";

        public override int Version => 3;

        protected override void Define(SagaBuilder<TestData> saga) => Trip(saga, ledger);
    }

    private static string Normalize(string diagram, string? sagaId = null)
    {
        string text = diagram.ReplaceLineEndings("\n");
        return sagaId is null ? text : text.Replace(sagaId, "<saga-id>", StringComparison.Ordinal);
    }

    private static void AssertApproved(string name, string actual)
    {
        string approvedPath = Path.Combine(AppContext.BaseDirectory, "Diagrams", "Approved", name + ".mmd");
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (approved != actual)
        {
            string received = Path.Combine(AppContext.BaseDirectory, "Diagrams", "Received", name + ".mmd");
            Directory.CreateDirectory(Path.GetDirectoryName(received)!);
            File.WriteAllText(received, actual);
            TestContext.Current.TestOutputHelper?.WriteLine($"Received (written to {received}):\n{actual}");
        }

        Assert.Equal(approved, actual);
    }

    [Fact]
    public void DefinitionDiagram_MatchesTheApprovedOne()
    {
        string diagram = new TripSaga(new Ledger()).ToMermaid();

        AssertApproved("trip-definition", Normalize(diagram));
    }

    [Fact]
    public async Task DefinitionDiagram_FromTheClient_IsTheSame_ForTheLatestOrAGivenVersion()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b
            .Definition<TripSaga, TestData>()
            .Saga("trip", 1, saga => saga.Step("only").Execute(b.Ledger.Ok<TestData>())));

        Assert.Equal(new TripSaga(new Ledger()).ToMermaid(), host.Client.GetDefinitionDiagram("trip"));
        Assert.Equal(new TripSaga(new Ledger()).ToMermaid(), host.Client.GetDefinitionDiagram("trip", 3));
        Assert.Contains("[\"only\"]", host.Client.GetDefinitionDiagram("trip", 1), StringComparison.Ordinal);
        Assert.Throws<SagaNotFoundException>(() => host.Client.GetDefinitionDiagram("trip", 2));
        Assert.Throws<SagaNotFoundException>(() => host.Client.GetDefinitionDiagram("boat"));
    }

    [Fact]
    public async Task PathDiagram_OfACompensatedSaga_MatchesTheApprovedOne()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Definition<TripSaga, TestData>());
        string id = await host.StartSagaAsync(sagaId: $"trip-{Guid.NewGuid():N}");
        SagaSnapshot end = await host.WaitForEndAsync(id);
        Assert.Equal(SagaStatus.Compensated, end.Status);

        string diagram = await host.Client.GetPathDiagramAsync(id, SagaTestHost.Ct);

        // The branches of the group finish in either order; their two lines are put in a fixed order.
        AssertApproved("trip-compensated-path", SortGroupLines(Normalize(diagram, id)));
    }

    [Fact]
    public async Task PathDiagram_OfAnUnknownSaga_ThrowsSagaNotFound()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b => b.Definition<TripSaga, TestData>());

        await Assert.ThrowsAsync<SagaNotFoundException>(async () => await host.Client.GetPathDiagramAsync("nope", SagaTestHost.Ct));
    }

    /// <summary>Lines 3 and 4 are the hotel and car completions, in completion order: order them by text.</summary>
    private static string SortGroupLines(string diagram)
    {
        string[] lines = diagram.Split('\n');
        int hotel = Array.FindIndex(lines, l => GroupLine().IsMatch(l) && l.Contains("hotel done", StringComparison.Ordinal));
        int car = Array.FindIndex(lines, l => GroupLine().IsMatch(l) && l.Contains("car done", StringComparison.Ordinal));
        Assert.True(hotel > 0 && car > 0, diagram);
        if (car < hotel)
        {
            lines[car] = lines[car].Replace("car done", "hotel done", StringComparison.Ordinal);
            lines[hotel] = lines[hotel].Replace("hotel done", "car done", StringComparison.Ordinal);
        }

        return string.Join('\n', lines);
    }

    [GeneratedRegex("^  e[34]\\[\"[34]\\. ")]
    private static partial Regex GroupLine();
}
