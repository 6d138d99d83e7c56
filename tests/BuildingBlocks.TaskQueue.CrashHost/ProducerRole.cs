using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.TaskQueue.CrashHost;

/// <summary>
/// Enqueues <c>batches</c> batches of <c>batchSize</c> tasks on queue "produce", one EnqueueBatchAsync each. Prints
/// <c>BATCH n BEGIN</c> before the call and <c>BATCH n COMMITTED</c> after it returns; every payload is
/// <c>{"run":r,"batch":n,"index":i}</c>, so the test can count each batch after a kill.
/// </summary>
internal static class ProducerRole
{
    public const string Queue = "produce";

    public static async Task<int> RunAsync(CrashHostArguments arguments, CancellationToken lifetime)
    {
        var services = new ServiceCollection();
        services.AddTaskQueue().UseStore(arguments);
        await using ServiceProvider provider = services.BuildServiceProvider();
        ITaskQueue queue = provider.GetRequiredService<ITaskQueue>();

        Console.WriteLine("READY");
        for (int batch = 1; batch <= arguments.Batches; batch++)
        {
            var tasks = new NewTask[arguments.BatchSize];
            for (int i = 0; i < tasks.Length; i++)
            {
                byte[] payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"run":{{arguments.Run}},"batch":{{batch}},"index":{{i}}}"""));
                tasks[i] = new NewTask(Queue, payload);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BATCH {batch} BEGIN"));
            await queue.EnqueueBatchAsync(tasks, lifetime);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BATCH {batch} COMMITTED"));
        }

        Console.WriteLine("DONE");
        return 0;
    }
}
