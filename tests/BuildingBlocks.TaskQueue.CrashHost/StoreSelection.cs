using Microsoft.Extensions.DependencyInjection;

namespace BuildingBlocks.TaskQueue.CrashHost;

/// <summary>Puts the store the command line chose (--store) under a task queue registration.</summary>
internal static class StoreSelection
{
    public static ITaskQueueBuilder UseStore(this ITaskQueueBuilder builder, CrashHostArguments arguments) =>
        arguments.Store == CrashHostArguments.Postgres
            ? builder.UsePostgreSql(arguments.ConnectionString, o => o.Schema = arguments.Schema)
            : builder.UseSqlite(arguments.Database);
}
