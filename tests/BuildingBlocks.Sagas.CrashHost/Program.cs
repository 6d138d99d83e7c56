using System.Globalization;
using BuildingBlocks.Sagas.CrashHost;

// The child process of the Sagas crash tests: a saga coordinator for the crash saga on a SQLite file or a PostgreSQL
// schema, which the tests kill with SIGKILL (or freeze with SIGSTOP) at any moment and check from outside: the store's
// sagas and history, and the ledger file the steps' effects went to.
//   run --ledger <path> --coordinator <name> (--db <file> | --store postgres --connection-string <cs> [--schema <name>])
//       [--start-from N --start-count N] [--exit-when-done] [--lease-ms N] [--max-concurrent N] [--pause-ms N] [--max-run-s N]
// Protocol lines go to stdout (READY <coordinatorId>, STARTED <index>, STARTS DONE, DONE <counts>, REFUSED <saga> <token>
// <kinds>, LEASE LOST <saga> <token>, SUSPENDED, CHECKPOINT FAILED, STORE CALL FAILED); logs go to stderr.
try
{
    CrashHostArguments arguments = CrashHostArguments.Parse(args);
    using var lifetime = new CancellationTokenSource(arguments.MaxRun);
    return await RunRole.RunAsync(arguments, lifetime.Token);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{e.Message}{Environment.NewLine}{CrashHostArguments.Usage}"));
    return 2;
}
