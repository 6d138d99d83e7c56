using ConsistentHashing.LoadBalancing;

// The classic consistent-hashing load balancer: Kestrel servers on loopback behind an HttpClient whose handler picks
// the server that owns each request id; then one server leaves and another joins, and the demo shows what moved.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    LoadBalancingResult result = await new LoadBalancingDemo().RunAsync(Console.Out, cancellation.Token);
    if (!result.Succeeded)
    {
        await Console.Error.WriteLineAsync($"FAILED: {result.Violations.Count} invariant(s) violated; first: {result.Violations[0]}");
        return 1;
    }

    return 0;
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("Cancelled.");
    return 130;
}
