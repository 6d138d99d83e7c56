using System.Globalization;
using System.Text.RegularExpressions;
using Showcase.Sections;

namespace BuildingBlocks.Samples.Tests.Showcase;

/// <summary>Runs the sagas section once and checks what it printed.</summary>
public sealed class SagasSectionRun : IAsyncLifetime
{
    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        await new SagasSection().RunAsync(writer, TestContext.Current.CancellationToken);
        Output = writer.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class SagasSectionTests(SagasSectionRun run) : IClassFixture<SagasSectionRun>
{
    [Fact]
    public void RunAsync_EveryStepCompleting_CompletesTheOrder()
    {
        Assert.Matches(Row("order-1", "Completed", "reserve-stock ✓ → charge-card ✓ → ship ✓"), run.Output);
    }

    [Fact]
    public void RunAsync_StartingOneIdTwice_StartsOneSaga()
    {
        Assert.Contains("order-1 was started twice with one saga id: the second start returned order-1 and started nothing.", run.Output, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^Sagas by status: Completed 1, Compensated 2\.$", RegexOptions.Multiline), run.Output);
    }

    [Fact]
    public void RunAsync_DeclinedCard_UndoesTheReservationOnly()
    {
        Assert.Matches(Row("order-2", "Compensated", "reserve-stock ✓ → charge-card ✗ → undo reserve-stock ✓"), run.Output);
    }

    [Fact]
    public void RunAsync_FailedRefund_ParksTheSagaUntilAnOperatorRetriesIt()
    {
        Assert.Contains("order-3 is CompensationFailed, parked for an operator (1 parked): The compensation of step 'charge-card' failed after 2 attempt(s): HttpRequestException: refund API unavailable", run.Output, StringComparison.Ordinal);

        // Newest first: the refund (retried, parked, retried by the operator) before the release.
        Assert.Matches(
            Row("order-3", "Compensated", "reserve-stock ✓ → charge-card ✓ → ship ✗ → undo charge-card ↻ → undo charge-card ✗ \\(parked\\) → operator retry → undo charge-card ✓ → undo reserve-stock ✓"),
            run.Output);
    }

    [Fact]
    public void RunAsync_TheShop_DidEachThingOncePerKey()
    {
        Assert.Contains("The shop: 3 stock reservations (2 released), 2 card charges (1 refunded), 1 shipment.", run.Output, StringComparison.Ordinal);
    }

    private static Regex Row(string order, string status, string path) =>
        new($@"^\s+{Regex.Escape(order)}\s+\|\s+{status}\s+\|\s+{path}\s*$", RegexOptions.Multiline);
}
