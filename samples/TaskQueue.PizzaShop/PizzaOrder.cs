namespace TaskQueue.PizzaShop;

/// <summary>The payload of one task on queue "pizzas": what goes on the pizza.</summary>
/// <param name="Contents">Ham, Cheese or Plain.</param>
internal sealed record PizzaOrder(string Contents)
{
    public const string Queue = "pizzas";

    /// <summary>The menu the shop cycles through when it takes orders.</summary>
    public static IReadOnlyList<string> Menu { get; } = ["Ham", "Cheese", "Plain"];
}
