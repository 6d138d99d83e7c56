using System.Globalization;
using BuildingBlocks.TaskQueue.CrashHost;

// The child process of the TaskQueue crash tests. One role per process, against a SQLite file or (--store postgres) a
// PostgreSQL schema, so the test can kill it with SIGKILL at any moment and check from outside what survived:
//   worker  <db> <workerName> [--hold-ms N] [--concurrency N] [--lease-ms N] [--ledger <path>] [--max-run-s N]
//   produce <db> <batches> <batchSize> [--run N] [--max-run-s N]
//   (with --store postgres --connection-string <cs> [--schema <name>], <db> is left out and a worker needs --ledger)
// Protocol lines go to stdout (READY, STARTED, FINISHED, BATCH n BEGIN/COMMITTED, DONE, LISTENING, LISTENER LOST);
// logs go to stderr.
if (args.Length == 0)
{
    await Console.Error.WriteLineAsync(CrashHostArguments.Usage);
    return 2;
}

try
{
    var arguments = CrashHostArguments.Parse(args);
    using var lifetime = new CancellationTokenSource(arguments.MaxRun);
    return arguments.Role switch
    {
        "worker" => await WorkerRole.RunAsync(arguments, lifetime.Token),
        "produce" => await ProducerRole.RunAsync(arguments, lifetime.Token),
        _ => throw new ArgumentException($"Unknown role '{arguments.Role}'."),
    };
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{e.Message}{Environment.NewLine}{CrashHostArguments.Usage}"));
    return 2;
}
