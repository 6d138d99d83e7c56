using System.Globalization;
using System.Text.RegularExpressions;
using BuildingBlocks.TaskQueue;
using TaskQueue.PizzaShop;

namespace BuildingBlocks.Samples.Tests.PizzaShop;

/// <summary>Runs the shop once (9 orders, 3 oven processes, oven-1 loses power halfway through its second pizza).</summary>
public sealed class PizzaShopRun : IAsyncLifetime
{
    internal PizzaShopResult Result { get; private set; } = null!;

    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        Result = await new global::TaskQueue.PizzaShop.PizzaShop().RunAsync(output, TestContext.Current.CancellationToken);
        Output = output.ToString();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public class PizzaShopTests(PizzaShopRun run) : IClassFixture<PizzaShopRun>
{
    private const string DeadOven = "oven-1";

    private PizzaShopResult Result => run.Result;

    [Fact]
    public void RunAsync_WithDefaults_KeepsEveryPromise()
    {
        Assert.True(Result.Succeeded, string.Join(Environment.NewLine, Result.Violations) + Environment.NewLine + run.Output);
    }

    [Fact]
    public void RunAsync_EveryOrder_IsDoneExactlyOnce()
    {
        Assert.Equal(9, Result.Orders.Count);
        Assert.Equal(["Ham", "Cheese", "Plain", "Ham", "Cheese", "Plain", "Ham", "Cheese", "Plain"], Result.Orders.Select(o => o.Contents));
        foreach (OrderOutcome order in Result.Orders)
        {
            Assert.Equal(TaskState.Completed, order.State);

            // The ovens' own reports: exactly one pizza came out per order, from the oven whose lease completed it.
            OvenEvent baked = Assert.Single(Result.Events, e => e.Kind == OvenEventKind.Baked && e.OrderId == order.Id);
            Assert.Equal(order.CompletedBy, baked.Oven);
            Assert.Equal(order.LeaseToken, baked.LeaseToken);
            Assert.Equal(order.Attempts, baked.Attempt);
        }
    }

    [Fact]
    public void RunAsync_WhenAnOvenDiesMidPizza_AnotherOvenFinishesItOnALaterAttempt()
    {
        Assert.Equal(DeadOven, Result.DeadOven);
        long id = Assert.NotNull(Result.InterruptedOrder);

        // oven-1 put the pizza in and never took it out; it died (SIGKILL) and never reported again.
        OvenEvent started = Assert.Single(Result.Events, e => e.Kind == OvenEventKind.Baking && e.Oven == DeadOven && e.OrderId == id);
        Assert.DoesNotContain(Result.Events, e => e.Kind == OvenEventKind.Baked && e.Oven == DeadOven && e.OrderId == id);
        OvenEvent died = Assert.Single(Result.Events, e => e.Kind == OvenEventKind.Exited && e.Oven == DeadOven);
        Assert.NotEqual(0, died.ExitCode);
        Assert.True(Result.Events.ToList().IndexOf(died) == Result.Events.ToList().FindLastIndex(e => e.Oven == DeadOven), "oven-1 reported something after it died");

        // Another oven claimed it again once the lease ran out, under a newer lease, and finished it.
        OrderOutcome order = Result.Orders.Single(o => o.Id == id);
        Assert.NotEqual(DeadOven, order.CompletedBy);
        Assert.True(order.Attempts > started.Attempt, $"attempt {order.Attempts} is not after oven-1's {started.Attempt}");
        Assert.True(order.LeaseToken > started.LeaseToken, $"lease {order.LeaseToken} is not newer than oven-1's {started.LeaseToken}");
        Assert.Equal($"✓ {order.CompletedBy} (attempt {order.Attempts}, after {DeadOven} died)", order.Done);

        // Only that order was taken twice: the others needed one attempt each.
        Assert.All(Result.Orders.Where(o => o.Id != id), o => Assert.Equal(1, o.Attempts));
    }

    [Fact]
    public void RunAsync_PrintsTheBoardAsItFillsThenTheSummary()
    {
        string output = run.Output;
        Assert.Equal(2, Regex.Count(output, @"^\s+ID \| Contents \| Done\s*$", RegexOptions.Multiline));

        // Each order's row appears twice: once when it is done, once on the closing board.
        foreach (OrderOutcome order in Result.Orders)
        {
            string row = $@"^\s+{order.Id} \| {order.Contents}\s+\| {Regex.Escape(order.Done)}$";
            Assert.Equal(2, Regex.Count(output, row, RegexOptions.Multiline));
        }

        Assert.Contains($"{DeadOven} lost power halfway through order {Result.InterruptedOrder}", output, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^All 9 orders done, each baked exactly once; order \d+ \(\w+\) was finished by oven-[23] on attempt [2-9] after oven-1 died\.", RegexOptions.Multiline), output);
    }
}
