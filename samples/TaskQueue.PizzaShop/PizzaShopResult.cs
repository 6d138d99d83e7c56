using BuildingBlocks.TaskQueue;

namespace TaskQueue.PizzaShop;

/// <summary>What a <see cref="PizzaShop"/> run did, read from the store and from the ovens' own reports.</summary>
/// <param name="Orders">Every order, in id order.</param>
/// <param name="DeadOven">The oven that lost power, or <see langword="null"/> if none did.</param>
/// <param name="InterruptedOrder">The order it was baking when it died, or <see langword="null"/>.</param>
/// <param name="Events">Every oven event in the order the shop received them (per oven, in the order they happened).</param>
/// <param name="Elapsed">From the first oven start to the last order done.</param>
/// <param name="Violations">Broken promises in plain words; empty on success.</param>
internal sealed record PizzaShopResult(
    IReadOnlyList<OrderOutcome> Orders,
    string? DeadOven,
    long? InterruptedOrder,
    IReadOnlyList<OvenEvent> Events,
    TimeSpan Elapsed,
    IReadOnlyList<string> Violations)
{
    public bool Succeeded => Violations.Count == 0;
}

/// <summary>One order at the end of the run.</summary>
/// <param name="Id">The task id.</param>
/// <param name="Contents">Ham, Cheese or Plain.</param>
/// <param name="State">The task's state in the store.</param>
/// <param name="CompletedBy">The worker id (oven) that held the task's last lease.</param>
/// <param name="Attempts">Claims the task used: 2 or more when an oven died holding it.</param>
/// <param name="LeaseToken">The token of the task's last lease.</param>
/// <param name="TimesBaked">How many BAKED reports the ovens sent for it: 1 when it was baked exactly once.</param>
/// <param name="Done">The board's Done cell.</param>
internal sealed record OrderOutcome(long Id, string Contents, TaskState State, string? CompletedBy, int Attempts, long LeaseToken, int TimesBaked, string Done);
