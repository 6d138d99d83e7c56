using System.Text;
using TaskQueue.PizzaShop;

// The task queue's classic example: pizza orders go into a task queue on a SQLite file, three ovens (this same program
// started again as "oven" child processes, each a hosted task queue worker) bake them, and one oven loses power
// halfway through a pizza. Its lease runs out and another oven bakes that pizza: every order is done exactly once.
//   dotnet run --project samples/TaskQueue.PizzaShop              the shop (starts the ovens itself)
//   dotnet run --project samples/TaskQueue.PizzaShop -- oven ...   one oven (what the shop starts)
Console.OutputEncoding = Encoding.UTF8;
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    if (args.Length > 0 && args[0] == "oven")
    {
        return await Oven.RunAsync(OvenSettings.Parse(args[1..]), cancellation.Token);
    }

    PizzaShopResult result = await new PizzaShop().RunAsync(Console.Out, cancellation.Token);
    return result.Succeeded ? 0 : 1;
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("Cancelled.");
    return 130;
}
catch (Exception e) when (e is ArgumentException or TimeoutException)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}
