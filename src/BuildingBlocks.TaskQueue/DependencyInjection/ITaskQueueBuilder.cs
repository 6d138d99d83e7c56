namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddTaskQueue</c>: plug in a store (<c>UseSqlite</c>, <c>UsePostgreSql</c>) and handlers (<c>AddHandler</c>).</summary>
public interface ITaskQueueBuilder
{
    /// <summary>The services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The registration name ("" for the default queue); keyed services use it as their key.</summary>
    string Name { get; }
}
